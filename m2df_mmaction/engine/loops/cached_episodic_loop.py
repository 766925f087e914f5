# Copyright (c) m2df_mmaction contributors.
"""Exact episodic evaluation from a cache of per-video frame features.

10,000 test episodes of 5-way 1-shot with one query per class decode and
encode 100,000 videos, although a test split holds only a few thousand
distinct ones. With a deterministic test pipeline and backbone a video's
frame features are the same in every episode that draws it, so they can be
computed once: one backbone pass over the distinct videos, then the head
alone on every episode.

When the episodes will almost surely use every video they can draw (10,000
test episodes over a few thousand videos do), the pass encodes all of those
at once, while dataloader workers draw the episodes.
"""
import math
import os
from functools import partial
from typing import (Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Union)

import numpy as np
import torch
from mmaction.registry import LOOPS
from mmaction.structures import ActionDataSample
from mmengine.dist import all_gather, get_dist_info
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner.amp import autocast
from mmengine.runner.loops import TestLoop, ValLoop
from mmengine.utils import ProgressBar
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from m2df_mmaction.datasets.pipeline_check import (
    find_random_transforms, pipeline_differs_across_seeds)

__all__ = ['CachedEpisodicTestLoop', 'CachedEpisodicValLoop']


class _VideoSubset(Dataset):
    """Some videos of an episodic dataset's wrapped dataset, one per item."""

    def __init__(self, episodic, video_indices: Sequence[int]) -> None:
        self.episodic = episodic
        self.video_indices = [int(i) for i in video_indices]

    def __len__(self) -> int:
        return len(self.video_indices)

    def __getitem__(self, index: int) -> dict:
        return dict(
            inputs=self.episodic.load_video(self.video_indices[index]),
            data_samples=ActionDataSample())


#: Encode every video an episode can draw, without waiting for the draws,
#: when at most this share of them is expected to be drawn by no episode.
_MAX_UNUSED_SHARE = 0.01


class _Draws(NamedTuple):
    """Episodes, stacked: ``class_ids`` ``[E, N]`` and ``videos`` ``[E, V]``
    (each episode's supports, then its queries)."""
    class_ids: np.ndarray
    videos: np.ndarray

    def episode(self, position: int, num_support: int) -> dict:
        """Episode ``position`` as :meth:`EpisodicDataset.sample_episode`
        returns it."""
        videos = self.videos[position]
        return dict(
            class_ids=self.class_ids[position],
            support=videos[:num_support],
            query=videos[num_support:])


class _EpisodeChunks(Dataset):
    """Episodes of an episodic dataset, drawn a chunk per item, so that
    dataloader workers draw the chunks side by side.

    Item ``i`` is the :class:`_Draws` of the ``i``-th chunk of ``indices``.
    """

    def __init__(self, episodic, indices: Sequence[int],
                 num_chunks: int) -> None:
        self.episodic = episodic
        self.chunks = np.array_split(
            np.asarray(indices, dtype=np.int64),
            max(1, min(num_chunks, len(indices))))

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, index: int) -> _Draws:
        episodic = self.episodic
        episodes = [
            episodic.sample_episode(int(i)) for i in self.chunks[index]
        ]
        return _Draws(
            np.stack([e['class_ids'] for e in episodes]),
            np.stack([episodic.episode_video_indices(e) for e in episodes]))


def _as_is(item):
    return item


def _init_drawing_worker(worker_init_fn: Optional[Callable], worker_id: int):
    """The loader's own worker init, then the lowest CPU priority: the
    drawing then takes the CPU time the encode pass leaves idle (while its
    main process waits for decoded videos) instead of slowing that pass."""
    if worker_init_fn is not None:
        worker_init_fn(worker_id)
    if hasattr(os, 'nice'):  # POSIX
        os.nice(19)


def _start_drawing(loader: DataLoader,
                   indices: Sequence[int]) -> Callable[[], _Draws]:
    """Start drawing episodes ``indices`` of ``loader``'s dataset in its
    dataloader workers; the returned function waits for them.

    With ``w`` workers the episodes go in ``2w`` chunks, all of which the
    workers start on at once (two prefetched per worker), so the drawing
    runs while the caller does other work; without workers it runs when
    the function is called.
    """
    if not len(indices):  # e.g. more ranks than episodes
        empty = np.zeros((0, 0), np.int64)
        return lambda: _Draws(empty, empty)
    workers = loader.num_workers
    chunks = iter(
        DataLoader(
            _EpisodeChunks(loader.dataset, indices, 2 * max(workers, 1)),
            batch_size=None,
            num_workers=workers,
            collate_fn=_as_is,
            prefetch_factor=2 if workers else None,
            worker_init_fn=partial(_init_drawing_worker,
                                   loader.worker_init_fn)))

    def finish() -> _Draws:
        return _Draws(*(np.concatenate(column) for column in zip(*chunks)))

    return finish


class _CachedEpisodicLoopMixin:
    """The work shared by :class:`CachedEpisodicTestLoop` and
    :class:`CachedEpisodicValLoop`; ``_stage`` is ``'test'`` or ``'val'``.
    """

    _stage = 'test'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 deterministic_backbone: bool = True,
                 episode_batch_size: Optional[int] = None,
                 video_batch_size: Optional[int] = None,
                 head_batch_size: int = 256) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        dataset = self.dataloader.dataset
        loop = type(self).__name__
        plain = 'TestLoop' if self._stage == 'test' else 'ValLoop'
        for attr in ('sample_episode', 'build_data_sample', 'load_video',
                     'episode_video_indices'):
            if not hasattr(dataset, attr):
                raise TypeError(
                    f'{loop} needs an EpisodicDataset as the '
                    f'{self._stage} dataset, got '
                    f'{type(dataset).__name__} (no `{attr}`).')
        if not deterministic_backbone:
            raise ValueError(
                f'{loop}: the config says the backbone is not '
                'deterministic at test time (deterministic_backbone=False), '
                'so frame features cannot be cached. Use '
                f"{self._stage}_cfg = dict(type='{plain}').")
        reasons = find_random_transforms(
            getattr(dataset.dataset, 'pipeline', None))
        if not reasons and pipeline_differs_across_seeds(
                lambda: dataset.load_video(0)):
            reasons = ['the same video gave different tensors under '
                       'different seeds']
        if reasons:
            raise ValueError(
                f'{loop}: the {self._stage} pipeline is random ('
                + ', '.join(reasons) + '), so a video would not give the '
                'same frames in every episode and its features cannot be '
                'cached. Make the pipeline deterministic (frame samplers '
                'with test_mode=True, CenterCrop, no Flip/Random*/colour '
                f"jitter), or use {self._stage}_cfg = dict(type='{plain}').")
        self.episode_batch_size = episode_batch_size or \
            self.dataloader.batch_size or 1
        self.head_batch_size = head_batch_size
        videos_per_episode = dataset.num_ways * (
            dataset.num_shots + dataset.num_queries)
        self.video_batch_size = video_batch_size or \
            self.episode_batch_size * videos_per_episode

    @property
    def _model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> dict:
        """Cache the frame features, then evaluate every episode."""
        stage = self._stage
        self.runner.call_hook(f'before_{stage}')
        self.runner.call_hook(f'before_{stage}_epoch')
        self.runner.model.eval()

        dataset = self.dataloader.dataset
        indices = [int(i) for i in self.dataloader.sampler]  # this rank's
        pool = dataset.video_pool()
        if dataset.expected_unused_videos(len(dataset)) <= \
                _MAX_UNUSED_SHARE * len(pool):
            # The episodes will use (almost surely) every video they can
            # draw: encode those while the workers draw this rank's episodes.
            finish = _start_drawing(self.dataloader, indices)
            video_ids = pool
            feats = self.encode_videos(video_ids)
            draws = finish()
        else:
            # Encode only the videos the episodes draw; every rank draws all
            # the episodes, so that all agree on the list.
            everything = _start_drawing(self.dataloader, range(len(dataset)))()
            video_ids = np.unique(everything.videos)
            feats = self.encode_videos(video_ids)
            draws = _Draws(everything.class_ids[indices],
                           everything.videos[indices])
        # [E, V] row of each episode video's features in the cache.
        rows = np.searchsorted(video_ids, draws.videos)
        found = video_ids[np.minimum(rows, len(video_ids) - 1)] == draws.videos
        if not found.all():
            position, item = np.argwhere(~found)[0]
            raise RuntimeError(
                f'{type(self).__name__}: episode {indices[position]} draws '
                f'video {draws.videos[position, item]}, which is not among '
                'the encoded videos (EpisodicDataset.video_pool(): the '
                'videos of the episode classes).')
        self.run_episodes(indices, draws, rows, feats)

        metrics = self.evaluator.evaluate(len(dataset))
        self.runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{stage}')
        return metrics

    @torch.no_grad()
    def encode_videos(self, video_ids: np.ndarray) -> Tensor:
        """Frame features of the given videos, one backbone pass each.

        Each rank encodes a contiguous share of ``video_ids``; the shares
        are gathered, so every rank returns all the features.

        Args:
            video_ids (np.ndarray): ``[M]`` sorted distinct indices of the
                wrapped dataset.

        Returns:
            Tensor: ``[M, T, D]`` on the model's device, in the dtype the
            model's ``encode_frames`` returns.
        """
        model = self._model
        rank, world_size = get_dist_info()
        total = len(video_ids)
        share = math.ceil(total / world_size)
        mine = video_ids[rank * share:(rank + 1) * share]
        if len(mine) == 0:  # more ranks than videos: encode a dummy
            mine = video_ids[-1:]
        loader = DataLoader(
            _VideoSubset(self.dataloader.dataset, mine),
            batch_size=self.video_batch_size,
            shuffle=False,
            num_workers=self.dataloader.num_workers,
            collate_fn=self.dataloader.collate_fn,
            pin_memory=self.dataloader.pin_memory,
            worker_init_fn=self.dataloader.worker_init_fn)
        progress = ProgressBar(len(mine)) if rank == 0 else None
        chunks = []
        for data in loader:
            data = model.data_preprocessor(data, False)
            inputs = data['inputs']  # [b, T, C, H, W]
            with autocast(enabled=self.fp16):
                frames = model.encode_frames(inputs.flatten(0, 1))
            chunks.append(frames.view(*inputs.shape[:2], -1))
            if progress is not None:
                progress.update(len(inputs))
        local = torch.cat(chunks)
        if world_size == 1:
            return local
        if len(local) < share:  # same shape on every rank for all_gather
            pad = local[-1:].expand(share - len(local), *local.shape[1:])
            local = torch.cat([local, pad])
        return torch.cat(all_gather(local))[:total]

    @torch.no_grad()
    def run_episodes(self, indices: Sequence[int], draws: _Draws,
                     rows: np.ndarray, feats: Tensor) -> None:
        """Run the head on this rank's episodes, from cached features.

        The head runs on ``head_batch_size`` episodes at a time (its per-call
        cost, e.g. OTAM's row steps, is shared); the evaluator and the
        iteration hooks then see batches of ``episode_batch_size``, as in
        the plain loop. Nothing in this pass waits for the device per
        episode: the feature rows go to the device once, and each head
        call's predictions come back to the host in one copy
        (:func:`_copy_predictions_to_host`), which on CUDA runs while the
        next call is queued: the evaluator and the hooks of one call run
        while the device computes the next.

        Args:
            indices (Sequence[int]): This rank's episodes (the dataloader's
                sampler), in order.
            draws (_Draws): Those episodes, in the same order.
            rows (np.ndarray): ``[E, V]`` row of ``feats`` of each video of
                each episode, in item order.
            feats (Tensor): ``[M, T, D]`` frame features.
        """
        dataset = self.dataloader.dataset
        num_support = dataset.num_ways * dataset.num_shots
        rows = torch.as_tensor(rows, device=feats.device)
        progress = ProgressBar(len(indices)) \
            if get_dist_info()[0] == 0 else None
        step = self.episode_batch_size
        chunk = step * max(1, self.head_batch_size // step)
        pending, batch_idx = None, 0
        for start in range(0, len(indices), chunk):
            positions = range(start, min(start + chunk, len(indices)))
            samples = [
                dataset.build_data_sample(indices[k],
                                          draws.episode(k, num_support))
                for k in positions
            ]
            with autocast(enabled=self.fp16):
                outputs = self.predict_from_cache(
                    samples, rows[start:start + chunk], feats)
            finish = _copy_predictions_to_host(outputs)
            if pending is not None:
                batch_idx = self._process_outputs(*pending, batch_idx,
                                                  progress)
            pending = samples, finish
        if pending is not None:
            self._process_outputs(*pending, batch_idx, progress)

    def _process_outputs(self, samples: List[ActionDataSample],
                         finish: Callable[[], List[ActionDataSample]],
                         batch_idx: int,
                         progress: Optional[ProgressBar] = None) -> int:
        """Evaluator and iteration hooks of one head call's episodes, in
        batches of ``episode_batch_size``; returns the next ``batch_idx``.
        """
        stage, step = self._stage, self.episode_batch_size
        outputs = finish()
        if progress is not None:
            progress.update(len(outputs))
        for first in range(0, len(outputs), step):
            data_batch = dict(data_samples=samples[first:first + step])
            self.runner.call_hook(
                f'before_{stage}_iter',
                batch_idx=batch_idx,
                data_batch=data_batch)
            batch_outputs = outputs[first:first + step]
            self.evaluator.process(
                data_samples=batch_outputs, data_batch=data_batch)
            self.runner.call_hook(
                f'after_{stage}_iter',
                batch_idx=batch_idx,
                data_batch=data_batch,
                outputs=batch_outputs)
            batch_idx += 1
        return batch_idx

    def predict_from_cache(self, data_samples: List[ActionDataSample],
                           rows: Tensor,
                           feats: Tensor) -> List[ActionDataSample]:
        """Predict a batch of episodes from cached frame features.

        Args:
            data_samples (list[ActionDataSample]): ``B`` episodes, as
                :meth:`EpisodicDataset.build_data_sample` builds them. They
                stay where they are (the head reads only their metainfo).
            rows (Tensor): ``[B, V]`` rows of ``feats``, on its device.
            feats (Tensor): ``[M, T, D]`` frame features.

        Returns:
            list[ActionDataSample]: With ``pred_score`` ``[N*Q, N]`` and
            ``pred_label`` ``[N*Q]``.
        """
        return self._model.predict_from_features(feats[rows], data_samples)


def _copy_predictions_to_host(
    samples: List[ActionDataSample]
) -> Callable[[], List[ActionDataSample]]:
    """Start moving one head call's predictions to the host in one copy.

    On CUDA the copy goes into pinned memory without blocking, and an event
    marks its end, so the host can queue the next head call before waiting
    for this one. On other devices the copy is immediate.

    Args:
        samples (list[ActionDataSample]): With ``pred_score`` and
            ``pred_label`` of the same shapes, on any device.

    Returns:
        Callable: Waits for this copy only, then returns the same samples
        with their predictions as views of one host tensor each (the
        evaluator's ``.cpu()`` is then free).
    """
    if not samples or samples[0].pred_score.device.type == 'cpu':
        return lambda: samples
    scores = torch.stack([s.pred_score for s in samples])
    labels = torch.stack([s.pred_label for s in samples])
    done = None
    if scores.device.type == 'cuda':
        host_scores = torch.empty(
            scores.shape, dtype=scores.dtype, pin_memory=True)
        host_labels = torch.empty(
            labels.shape, dtype=labels.dtype, pin_memory=True)
        host_scores.copy_(scores, non_blocking=True)
        host_labels.copy_(labels, non_blocking=True)
        done = torch.cuda.Event()
        done.record()
    else:
        host_scores, host_labels = scores.cpu(), labels.cpu()

    def finish() -> List[ActionDataSample]:
        if done is not None:
            done.synchronize()
        for sample, score, label in zip(samples, host_scores, host_labels):
            sample.set_pred_score(score)
            sample.set_pred_label(label)
        return samples

    return finish


@LOOPS.register_module()
class CachedEpisodicTestLoop(_CachedEpisodicLoopMixin, TestLoop):
    """Test loop that encodes each distinct video once, then runs the head
    on every episode from the cached frame features.

    It gives the plain ``TestLoop``'s predictions and metrics (same
    episodes, same data samples, same evaluator, same hooks: ``before_test``,
    ``before_test_epoch``, ``before/after_test_iter`` once per batch of
    episodes, ``after_test_epoch``, ``after_test``) at the cost of one
    backbone pass over the distinct videos instead of one per episode
    video. Hooks receive ``data_batch=dict(data_samples=[...])``: no decoded
    inputs.

    1. Which videos to encode. If the episodes will almost surely use
       every video they can draw (``EpisodicDataset.expected_unused_videos``
       at most 1% of ``video_pool()``, as for thousands of test episodes),
       all of those, and this rank's episodes are drawn meanwhile in the
       test dataloader's workers (at the lowest CPU priority); otherwise
       ``sample_episode(i)`` for every episode first, and the union of
       their videos. Both give the same features for every episode.
    2. Caching pass: a DataLoader over those videos of the wrapped dataset
       (the test dataloader's workers, collate and worker init), the
       model's ``data_preprocessor`` and ``encode_frames``: features
       ``[M, T, D]`` kept on the model's device in its output dtype. Under
       DDP each rank encodes ``1/world_size`` of the videos and the shares
       are all-gathered.
    3. Episode pass: this rank's episodes (the dataloader's sampler), in
       head calls of ``head_batch_size`` episodes; the episode's data
       sample is built by ``EpisodicDataset.build_data_sample``, its
       features gathered by one index of cache rows for all episodes
       (sent to the device once); text through the model's text encoder;
       then ``cls_head.predict``; the predictions of each head call come to
       the host in one copy (on CUDA overlapped with the next call), so no
       episode waits for the device on its own, and the evaluator and
       hooks receive host tensors. The evaluator collects the results
       across ranks.

    Exactness needs a deterministic test pipeline and backbone: the loop
    refuses a random pipeline (the transform named by its settings, or the
    pipeline caught giving one video different tensors under different
    seeds; see :mod:`m2df_mmaction.datasets.pipeline_check`) or
    ``deterministic_backbone=False``.
    Head randomness must be seeded per episode (``M2DFHead`` seeds its
    prompt draws by ``episode_idx``).

    Usage::

        test_cfg = dict(type='CachedEpisodicTestLoop')

    Args:
        runner (Runner): A reference of runner.
        dataloader (DataLoader | dict): The test dataloader (its dataset an
            :class:`EpisodicDataset`).
        evaluator (Evaluator | dict | list): Used for computing metrics.
        fp16 (bool): Whether to run under autocast. Defaults to False.
        deterministic_backbone (bool): Set False when the backbone is random
            at test time (e.g. test-time dropout); the loop then refuses to
            run. Defaults to True.
        episode_batch_size (int, optional): Episodes per iteration seen by
            the hooks and the evaluator. Defaults to the dataloader's batch
            size, so hooks count iterations as for the plain loop.
        head_batch_size (int): Episodes per head call, rounded down to a
            multiple of ``episode_batch_size``; hooks of the episodes of one
            call run after it. Defaults to 256.
        video_batch_size (int, optional): Videos per backbone call of the
            caching pass. Defaults to ``episode_batch_size * N * (K + Q)``.
    """

    _stage = 'test'


@LOOPS.register_module()
class CachedEpisodicValLoop(_CachedEpisodicLoopMixin, ValLoop):
    """Validation loop with the feature cache of
    :class:`CachedEpisodicTestLoop` (``val`` hooks instead of ``test``).

    Usage::

        val_cfg = dict(type='CachedEpisodicValLoop')

    Args:
        runner (Runner): A reference of runner.
        dataloader (DataLoader | dict): The validation dataloader.
        evaluator (Evaluator | dict | list): Used for computing metrics.
        fp16 (bool): Whether to run under autocast. Defaults to False.
        deterministic_backbone (bool): See
            :class:`CachedEpisodicTestLoop`. Defaults to True.
        episode_batch_size (int, optional): Episodes per hook iteration.
        head_batch_size (int): Episodes per head call. Defaults to 256.
        video_batch_size (int, optional): Videos per backbone call.
    """

    _stage = 'val'
