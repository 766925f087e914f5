# Copyright (c) m2df_mmaction contributors.
"""What the cached loops need before they start, each refusal named.

A cached loop (:mod:`.cached_episodic_loop`) runs on a dataset with the
members of :data:`DATASET_MEMBERS` (an ``EpisodicDataset``), and its
results equal the plain loop's only when a video gives the same frame
features in every episode: a deterministic pipeline (see
:mod:`m2df_mmaction.datasets.pipeline_check`) and backbone.
"""
from m2df_mmaction.datasets.pipeline_check import (
    find_random_transforms, pipeline_differs_across_seeds)

__all__ = ['DATASET_MEMBERS', 'check_dataset_members', 'check_cacheable']

#: What the cached loops use of their dataset (an ``EpisodicDataset`` has
#: every member), all checked when a loop is built.
DATASET_MEMBERS = (
    'dataset',  # the wrapped dataset: its pipeline is checked
    '__len__',
    'episode_layout',  # (N, K, Q)
    'sample_episode',  # drawing (episode_drawing.py)
    'episode_video_indices',
    'video_pool',  # which videos to encode (feature_cache.py)
    'expected_unused_videos',
    'load_video',  # the caching pass and the determinism trial
    'build_data_sample',  # each episode's data sample
)


def _plain_loop(stage: str) -> str:
    return 'TestLoop' if stage == 'test' else 'ValLoop'


def check_dataset_members(dataset, loop: str, stage: str) -> None:
    """Refuse a dataset that lacks a member of :data:`DATASET_MEMBERS`.

    Args:
        dataset: The loop's dataset.
        loop (str): The loop's name, for the message.
        stage (str): ``'test'`` or ``'val'``.

    Raises:
        TypeError: Naming the dataset's class, every missing member and
            what to do.
    """
    missing = [name for name in DATASET_MEMBERS if not hasattr(dataset, name)]
    if missing:
        raise TypeError(
            f'{loop} needs an EpisodicDataset as the {stage} dataset, got '
            f'{type(dataset).__name__}, which lacks '
            + ', '.join(f'`{name}`' for name in missing)
            + f' (the loop uses {", ".join(DATASET_MEMBERS)}). Use an '
            'EpisodicDataset (or give the dataset these members), or '
            f"{stage}_cfg = dict(type='{_plain_loop(stage)}').")


def check_cacheable(dataset, loop: str, stage: str,
                    deterministic_backbone: bool = True) -> None:
    """Refuse what would make cached features differ from the plain
    loop's: a dataset without :data:`DATASET_MEMBERS`, a backbone said to
    be random, or a random pipeline (by its transforms' settings, else by
    loading video 0 under different seeds).

    Args:
        dataset: The loop's dataset.
        loop (str): The loop's name, for the messages.
        stage (str): ``'test'`` or ``'val'``.
        deterministic_backbone (bool): The loop's setting. Defaults to
            True.

    Raises:
        TypeError: See :func:`check_dataset_members`.
        ValueError: Naming what is random and what to do.
    """
    plain = _plain_loop(stage)
    check_dataset_members(dataset, loop, stage)
    if not deterministic_backbone:
        raise ValueError(
            f'{loop}: the config says the backbone is not '
            'deterministic at test time (deterministic_backbone=False), '
            'so frame features cannot be cached. Use '
            f"{stage}_cfg = dict(type='{plain}').")
    reasons = find_random_transforms(
        getattr(dataset.dataset, 'pipeline', None))
    if not reasons and pipeline_differs_across_seeds(
            lambda: dataset.load_video(0)):
        reasons = ['the same video gave different tensors under '
                   'different seeds']
    if reasons:
        raise ValueError(
            f'{loop}: the {stage} pipeline is random ('
            + ', '.join(reasons) + '), so a video would not give the '
            'same frames in every episode and its features cannot be '
            'cached. Make the pipeline deterministic (frame samplers '
            'with test_mode=True, CenterCrop, no Flip/Random*/colour '
            f"jitter), or use {stage}_cfg = dict(type='{plain}').")
