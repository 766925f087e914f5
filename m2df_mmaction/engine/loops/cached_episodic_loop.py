# Copyright (c) m2df_mmaction contributors.
"""Exact episodic evaluation from a cache of per-video frame features.

10,000 test episodes of 5-way 1-shot with one query per class decode and
encode 100,000 videos, although a test split holds only a few thousand
distinct ones. With a deterministic test pipeline and backbone a video's
frame features are the same in every episode that draws it, so they can be
computed once: one backbone pass over the distinct videos, then the head
alone on every episode.

This module is the loop: its checks, the episode pass and the registered
loops. The episodes are drawn by :mod:`.episode_drawing`, the videos chosen
and encoded by :mod:`.feature_cache`.
"""
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmaction.registry import LOOPS
from mmaction.structures import ActionDataSample
from mmengine.dist import get_dist_info
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner.amp import autocast
from mmengine.runner.loops import TestLoop, ValLoop
from mmengine.utils import ProgressBar
from torch import Tensor
from torch.utils.data import DataLoader

from m2df_mmaction.models.text.descriptions import check_described
from .cache_checks import check_cacheable
from .episode_drawing import EpisodeDraws
from .feature_cache import (VideoFeatures, cache_rows, draw_and_encode,
                            encode_features)

__all__ = ['CachedEpisodicTestLoop', 'CachedEpisodicValLoop']


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
        check_described(self.runner.model, dataset, self._stage)
        check_cacheable(dataset, type(self).__name__, self._stage,
                        deterministic_backbone)
        self.episode_batch_size = episode_batch_size or \
            self.dataloader.batch_size or 1
        self.head_batch_size = head_batch_size
        num_ways, num_shots, num_queries = dataset.episode_layout
        videos_per_episode = num_ways * (num_shots + num_queries)
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
        head = self._model.cls_head
        if not head.cacheable:  # in eval mode: what evaluation reads
            raise ValueError(
                f'{type(self).__name__}: {type(head).__name__} reads the raw '
                'frames of each episode (needs raw_frames), which this loop '
                'does not cache: use '
                f"{stage}_cfg = dict(type='"
                f"{'TestLoop' if stage == 'test' else 'ValLoop'}').")

        dataset = self.dataloader.dataset
        indices = [int(i) for i in self.dataloader.sampler]  # this rank's
        draws, video_ids, feats = draw_and_encode(self.dataloader, indices,
                                                  self.encode_videos)
        # [E, V] row of each episode video's features in the cache.
        rows = cache_rows(video_ids, draws, indices, type(self).__name__)
        self.run_episodes(indices, draws, rows, feats)

        metrics = self.evaluator.evaluate(len(dataset))
        self.runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{stage}')
        return metrics

    def encode_videos(self, video_ids: np.ndarray) -> VideoFeatures:
        """Features of the given videos, one encoder pass each
        (:func:`.feature_cache.encode_features`, in ``video_batch_size``
        videos per call): the kinds the head declares.

        Args:
            video_ids (np.ndarray): ``[M]`` sorted distinct indices of the
                wrapped dataset.

        Returns:
            dict[str, Tensor]: ``frames`` ``[M, T, D]`` (and the head's
            richer kinds) on the model's device, in the dtype the model's
            encoder returns; all of them on every rank.
        """
        return encode_features(self._model, self.dataloader, video_ids,
                               self.video_batch_size, self.fp16)

    @torch.no_grad()
    def run_episodes(self, indices: Sequence[int], draws: EpisodeDraws,
                     rows: np.ndarray, feats: VideoFeatures) -> None:
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
            draws (EpisodeDraws): Those episodes, in the same order.
            rows (np.ndarray): ``[E, V]`` row of ``feats`` of each video of
                each episode, in item order.
            feats (dict[str, Tensor]): ``[M, T, ...]`` features by kind.
        """
        dataset = self.dataloader.dataset
        num_ways, num_shots, _ = dataset.episode_layout
        num_support = num_ways * num_shots
        rows = torch.as_tensor(rows, device=feats['frames'].device)
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
                           feats: VideoFeatures) -> List[ActionDataSample]:
        """Predict a batch of episodes from cached frame features.

        Args:
            data_samples (list[ActionDataSample]): ``B`` episodes, as
                :meth:`EpisodicDataset.build_data_sample` builds them. They
                stay where they are (the head reads only their metainfo).
            rows (Tensor): ``[B, V]`` rows of ``feats``, on its device.
            feats (dict[str, Tensor]): ``[M, T, ...]`` features by kind.

        Returns:
            list[ActionDataSample]: With ``pred_score`` ``[N*Q, N]`` and
            ``pred_label`` ``[N*Q]``.
        """
        return self._model.predict_from_features(
            {kind: value[rows] for kind, value in feats.items()},
            data_samples)


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

    1. Which videos to encode (:mod:`.feature_cache`). If the episodes
       will almost surely use every video they can draw
       (``EpisodicDataset.expected_unused_videos`` at most 1% of
       ``video_pool()``, as for thousands of test episodes), all of those,
       and this rank's episodes are drawn meanwhile in the test
       dataloader's workers (at the lowest CPU priority,
       :mod:`.episode_drawing`); otherwise ``sample_episode(i)`` for every
       episode first, and the union of their videos. Both give the same
       features for every episode.
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
    seeds; see :mod:`m2df_mmaction.datasets.pipeline_check`),
    ``deterministic_backbone=False``, or a dataset without the members it
    uses (:mod:`.cache_checks`).
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
