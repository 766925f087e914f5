# Copyright (c) m2df_mmaction contributors.
"""Drawing the episodes of an episodic dataset, in dataloader workers.

The cached loops (:mod:`.cached_episodic_loop`) need every episode's class
ids and video indices, not its decoded videos. Drawing 10,000 episodes
takes seconds of CPU, so the test dataloader's workers draw them, a chunk
per item, while the main process encodes videos (:mod:`.feature_cache`).
"""
import os
from functools import partial
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np
from torch.utils.data import DataLoader, Dataset

__all__ = ['EpisodeDraws', 'start_drawing']


class EpisodeDraws(NamedTuple):
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

    Item ``i`` is the :class:`EpisodeDraws` of the ``i``-th chunk of
    ``indices``.
    """

    def __init__(self, episodic, indices: Sequence[int],
                 num_chunks: int) -> None:
        self.episodic = episodic
        self.chunks = np.array_split(
            np.asarray(indices, dtype=np.int64),
            max(1, min(num_chunks, len(indices))))

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, index: int) -> EpisodeDraws:
        episodic = self.episodic
        episodes = [
            episodic.sample_episode(int(i)) for i in self.chunks[index]
        ]
        return EpisodeDraws(
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


def start_drawing(loader: DataLoader,
                  indices: Sequence[int]) -> Callable[[], EpisodeDraws]:
    """Start drawing episodes ``indices`` of ``loader``'s dataset in its
    dataloader workers; the returned function waits for them.

    With ``w`` workers the episodes go in ``2w`` chunks, all of which the
    workers start on at once (two prefetched per worker), so the drawing
    runs while the caller does other work; without workers it runs when
    the function is called.

    Args:
        loader (DataLoader): Its dataset (an :class:`EpisodicDataset`), its
            ``num_workers`` and ``worker_init_fn`` are used.
        indices (Sequence[int]): The episodes to draw, in order.

    Returns:
        Callable: Waits for the draws, then returns them in the order of
        ``indices``.
    """
    if not len(indices):  # e.g. more ranks than episodes
        empty = np.zeros((0, 0), np.int64)
        return lambda: EpisodeDraws(empty, empty)
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

    def finish() -> EpisodeDraws:
        return EpisodeDraws(
            *(np.concatenate(column) for column in zip(*chunks)))

    return finish
