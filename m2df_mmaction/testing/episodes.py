# Copyright (c) m2df_mmaction contributors.
"""Random episodes for testing heads, layers and losses.

A head test needs an :class:`~m2df_mmaction.structures.Episode` of some
N, K, Q, T and D, with or without text, and sometimes the data samples the
recognizer would have built it from (to call ``predict``)::

    from m2df_mmaction.testing import random_episode, episode_data_samples

    episode = random_episode(num_ways=5, num_shots=2, num_queries=3,
                             num_frames=8, dims=32, text_dims=32)
    outputs = head(episode)                    # logits [1, 15, 5]
    head.loss(episode)                         # needs query_labels
    head.predict(episode, episode_data_samples(episode))

The episode is laid out as :class:`EpisodicDataset` lays out its episodes
(supports way-major, queries way-major) and carries every optional field a
head may declare, so one helper serves every head.
"""
from typing import List, Optional

import torch
from mmaction.structures import ActionDataSample

from m2df_mmaction.structures import Episode

__all__ = ['random_episode', 'episode_data_samples']


def random_episode(num_ways: int = 5,
                   num_shots: int = 1,
                   num_queries: int = 1,
                   num_frames: int = 8,
                   dims: int = 32,
                   text_dims: Optional[int] = None,
                   num_classes: Optional[int] = None,
                   batch_size: int = 1,
                   seed: int = 0,
                   first_key: int = 0,
                   dtype: torch.dtype = torch.float32,
                   device: torch.device = 'cpu') -> Episode:
    """A batch of episodes of random features and labels.

    Args:
        num_ways (int): N. Defaults to 5.
        num_shots (int): K. Defaults to 1.
        num_queries (int): Q, queries per class (``M = N*Q``). Defaults
            to 1.
        num_frames (int): T. Defaults to 8.
        dims (int): D of the frame features. Defaults to 32.
        text_dims (int, optional): Dims of the class text; None: no text
            (``text`` and ``class_text`` are None). Defaults to None.
        num_classes (int, optional): C, classes of the pretend split the
            episode classes are drawn from. Defaults to ``2 * N``.
        batch_size (int): B. Defaults to 1.
        seed (int): Seed of a private generator (torch's global RNG is not
            touched). Defaults to 0.
        first_key (int): Key (``episode_idx``) of the first episode; the
            others follow. Defaults to 0.
        dtype (torch.dtype): Of the features. Defaults to float32.
        device (torch.device): Defaults to the CPU.

    Returns:
        Episode: ``support`` ``[B, N*K, T, D]``, ``query`` ``[B, N*Q, T,
        D]`` (standard normal), ``query_labels`` ``[B, N*Q]`` (query ``j``
        of class ``j // Q``), distinct ``class_ids`` ``[B, N]`` per episode,
        ``num_classes``, ``keys`` ``[B]`` and, with ``text_dims``,
        ``class_text`` ``[C, D_t]`` and ``text`` ``[B, N, D_t]``: the rows
        of ``class_text`` of the episode's classes.
    """
    num_classes = 2 * num_ways if num_classes is None else num_classes
    if num_classes < num_ways:
        raise ValueError(f'num_classes={num_classes} < num_ways={num_ways}.')
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=gen).to(device, dtype)

    support = randn(batch_size, num_ways * num_shots, num_frames, dims)
    query = randn(batch_size, num_ways * num_queries, num_frames, dims)
    class_ids = torch.stack([
        torch.randperm(num_classes, generator=gen)[:num_ways]
        for _ in range(batch_size)
    ]).to(device)
    labels = torch.arange(num_ways).repeat_interleave(num_queries)
    text = class_text = None
    if text_dims is not None:
        class_text = randn(num_classes, text_dims)
        text = class_text[class_ids]
    return Episode(
        num_ways=num_ways,
        num_shots=num_shots,
        support=support,
        query=query,
        query_labels=labels.expand(batch_size, -1).to(device),
        class_ids=class_ids,
        num_classes=num_classes,
        keys=torch.arange(first_key, first_key + batch_size, device=device),
        text=text,
        class_text=class_text)


def episode_data_samples(episode: Episode) -> List[ActionDataSample]:
    """The data samples an episode would have been built from.

    Their metainfo is what :class:`EpisodicDataset` writes (``num_ways``,
    ``num_shots``, ``num_queries``, ``class_ids``, ``episode_idx``,
    ``class_names`` and ``all_class_names`` as ``'class <id>'``), their
    ``gt_label`` the episode's query labels; ``head.predict`` writes its
    predictions into them, and ``FewShotRecognizer.build_episode`` builds
    the same layout and labels back from them.

    Args:
        episode (Episode): E.g. of :func:`random_episode`. Without
            ``class_ids`` the classes are ``0..N-1``, without ``keys`` the
            episode index is its position in the batch, without
            ``query_labels`` the labels are zeros.

    Returns:
        list[ActionDataSample]: One per episode of the batch.
    """
    n, k = episode.num_ways, episode.num_shots
    num_queries, rest = divmod(episode.num_query_videos, n)
    ids = episode.class_ids
    num_classes = episode.num_classes or (
        n if ids is None else int(ids.max()) + 1)
    names = [f'class {c}' for c in range(num_classes)]
    labels = episode.query_labels
    samples = []
    for b in range(episode.batch_size):
        class_ids = list(range(n)) if ids is None else \
            [int(c) for c in ids[b]]
        sample = ActionDataSample()
        sample.set_gt_label(
            torch.zeros(episode.num_query_videos, dtype=torch.long)
            if labels is None else labels[b].cpu())
        sample.set_metainfo(
            dict(
                episode_idx=b if episode.keys is None else
                int(episode.keys[b]),
                class_ids=class_ids,
                class_names=[names[c] for c in class_ids],
                all_class_names=names,
                num_ways=n,
                num_shots=k,
                num_queries=None if rest else num_queries))
        samples.append(sample)
    return samples
