# Copyright (c) m2df_mmaction contributors.
"""The episode of one query: a fitted support set plus that query."""
from typing import Sequence

import torch
from mmaction.structures import ActionDataSample

__all__ = ['build_query_episode']


def build_query_episode(class_names: Sequence[str], num_shots: int,
                        episode_idx: int) -> ActionDataSample:
    """The data sample of an inference episode with a single query.

    The metainfo is that of :meth:`EpisodicDataset.build_data_sample` (the
    heads read ``num_ways``, ``class_names``, ``all_class_names``,
    ``episode_idx``), for an episode of ``N*K`` supports and **one** query
    video. ``num_queries`` (queries *per class*) is left out on purpose: one
    query is not ``N*Q`` for any integer ``Q``, so the sample must not be
    mistaken for a benchmark episode (``build_episode`` then fails loudly
    instead of mis-splitting).

    Args:
        class_names (Sequence[str]): The N support class names; they are
            also ``all_class_names`` (heads with a video-text loss ask for
            the text of every class; at inference only the support classes
            exist).
        num_shots (int): K.
        episode_idx (int): Key of the episode; M2DF's test-time prompt draw
            of the query is a hash of ``(test_seed, episode_idx, 0)``.

    Returns:
        ActionDataSample: ``gt_label`` ``[1]`` (a placeholder: the query's
        class is unknown) and the metainfo.
    """
    names = [str(n) for n in class_names]
    num_ways = len(names)
    sample = ActionDataSample()
    sample.set_gt_label(torch.zeros(1, dtype=torch.long))
    sample.set_metainfo(
        dict(
            episode_idx=int(episode_idx),
            class_ids=list(range(num_ways)),
            class_names=names,
            all_class_names=names,
            num_ways=num_ways,
            num_shots=int(num_shots)))
    return sample
