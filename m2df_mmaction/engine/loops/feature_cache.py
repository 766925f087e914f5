# Copyright (c) m2df_mmaction contributors.
"""The cache of per-video frame features of the cached loops.

Which videos to encode, one backbone pass over them, and where each episode
video's features are in the cache. With a deterministic test pipeline and
backbone a video's frame features are the same in every episode that draws
it (the loops check both, :mod:`.cached_episodic_loop`).

When the episodes will almost surely use every video they can draw (10,000
test episodes over a few thousand videos do), the pass encodes all of those
at once, while dataloader workers draw the episodes
(:mod:`.episode_drawing`); otherwise the episodes are drawn first and only
the videos they use are encoded. The coverage maths are the dataset's
(``EpisodicDataset.video_pool`` and ``expected_unused_videos``): they follow
its drawing rule.
"""
import math
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import torch
from mmaction.structures import ActionDataSample
from mmengine.dist import all_gather, get_dist_info
from mmengine.runner.amp import autocast
from mmengine.utils import ProgressBar
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .episode_drawing import EpisodeDraws, start_drawing

#: Features of videos by kind (``frames``, ``spatial``, ``tokens/<layer>``),
#: each ``[M, T, ...]``.
VideoFeatures = Dict[str, Tensor]

__all__ = [
    'MAX_UNUSED_SHARE', 'VideoSubset', 'draw_and_encode', 'encode_features',
    'cache_rows'
]

#: Encode every video an episode can draw, without waiting for the draws,
#: when at most this share of them is expected to be drawn by no episode.
MAX_UNUSED_SHARE = 0.01


class VideoSubset(Dataset):
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


def draw_and_encode(
    loader: DataLoader, indices: Sequence[int],
    encode: Callable[[np.ndarray], VideoFeatures]
) -> Tuple[EpisodeDraws, np.ndarray, VideoFeatures]:
    """Draw episodes ``indices`` of ``loader``'s dataset and encode the
    videos they need.

    If at most :data:`MAX_UNUSED_SHARE` of the dataset's ``video_pool()`` is
    expected to be drawn by none of its episodes, the whole pool is encoded
    while ``loader``'s workers draw the episodes; otherwise every episode of
    the dataset is drawn first (on every rank, so that all agree on the
    list) and the union of their videos is encoded. Both give the same
    features for every episode.

    Args:
        loader (DataLoader): The loop's dataloader (dataset, workers).
        indices (Sequence[int]): This rank's episodes, in order.
        encode (Callable): ``[M]`` sorted distinct video indices ->
            ``[M, T, D]`` features (the loop's ``encode_videos``).

    Returns:
        tuple: The draws of ``indices`` (:class:`EpisodeDraws`), the
        ``[M]`` encoded video indices and their ``[M, T, D]`` features.
    """
    dataset = loader.dataset
    pool = dataset.video_pool()
    if dataset.expected_unused_videos(len(dataset)) <= \
            MAX_UNUSED_SHARE * len(pool):
        # The episodes will use (almost surely) every video they can
        # draw: encode those while the workers draw this rank's episodes.
        finish = start_drawing(loader, indices)
        video_ids = pool
        feats = encode(video_ids)
        draws = finish()
    else:
        # Encode only the videos the episodes draw; every rank draws all
        # the episodes, so that all agree on the list.
        everything = start_drawing(loader, range(len(dataset)))()
        video_ids = np.unique(everything.videos)
        feats = encode(video_ids)
        draws = EpisodeDraws(everything.class_ids[indices],
                             everything.videos[indices])
    return draws, video_ids, feats


@torch.no_grad()
def encode_features(model, loader: DataLoader, video_ids: np.ndarray,
                    batch_size: int, fp16: bool = False) -> VideoFeatures:
    """Features of the given videos, one encoder pass each.

    The kinds the head declares (:meth:`FewShotRecognizer.encode_videos`:
    pooled frames, spatial maps, tokens) are computed per video, as one
    episode of one video would compute them. Each rank encodes a
    contiguous share of ``video_ids``; the shares are gathered, so every
    rank returns all the features.

    Args:
        model (BaseModel): The unwrapped model: its ``data_preprocessor``
            and ``encode_videos``.
        loader (DataLoader): Its dataset (an :class:`EpisodicDataset`),
            workers, collate, ``pin_memory`` and worker init are used.
        video_ids (np.ndarray): ``[M]`` sorted distinct indices of the
            wrapped dataset.
        batch_size (int): Videos per encoder call.
        fp16 (bool): Whether to run under autocast. Defaults to False.

    Returns:
        dict[str, Tensor]: By kind, ``[M, T, ...]`` (``frames``
        ``[M, T, D]``) on the model's device, in the dtype the model's
        encoder returns.
    """
    rank, world_size = get_dist_info()
    total = len(video_ids)
    share = math.ceil(total / world_size)
    mine = video_ids[rank * share:(rank + 1) * share]
    if len(mine) == 0:  # more ranks than videos: encode a dummy
        mine = video_ids[-1:]
    videos = DataLoader(
        VideoSubset(loader.dataset, mine),
        batch_size=batch_size,
        shuffle=False,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        worker_init_fn=loader.worker_init_fn)
    progress = ProgressBar(len(mine)) if rank == 0 else None
    chunks = []
    for data in videos:
        data = model.data_preprocessor(data, False)
        inputs = data['inputs']  # [b, T, C, H, W]
        with autocast(enabled=fp16):
            # b videos as b episodes of one video each: [b, 1, T, ...]
            feats = model.encode_videos(inputs.unsqueeze(1))
        chunks.append({k: v.squeeze(1) for k, v in feats.items()})
        if progress is not None:
            progress.update(len(inputs))
    local = {k: torch.cat([c[k] for c in chunks]) for k in chunks[0]}
    if world_size == 1:
        return local
    gathered = {}
    for kind, value in local.items():
        if len(value) < share:  # same shape on every rank for all_gather
            pad = value[-1:].expand(share - len(value), *value.shape[1:])
            value = torch.cat([value, pad])
        gathered[kind] = torch.cat(all_gather(value))[:total]
    return gathered


def cache_rows(video_ids: np.ndarray, draws: EpisodeDraws,
               indices: Sequence[int], owner: str) -> np.ndarray:
    """Row of the cache of each video of each episode.

    Args:
        video_ids (np.ndarray): ``[M]`` sorted encoded video indices.
        draws (EpisodeDraws): The episodes ``indices``.
        indices (Sequence[int]): Their episode indices (for the message).
        owner (str): Who asks (the loop's name, for the message).

    Returns:
        np.ndarray: ``[E, V]`` rows, in item order.

    Raises:
        RuntimeError: Naming the first episode video that is not encoded.
    """
    rows = np.searchsorted(video_ids, draws.videos)
    found = video_ids[np.minimum(rows, len(video_ids) - 1)] == draws.videos
    if not found.all():
        position, item = np.argwhere(~found)[0]
        raise RuntimeError(
            f'{owner}: episode {indices[position]} draws '
            f'video {draws.videos[position, item]}, which is not among '
            'the encoded videos (EpisodicDataset.video_pool(): the '
            'videos of the episode classes).')
    return rows
