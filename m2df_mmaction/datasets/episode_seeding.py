# Copyright (c) m2df_mmaction contributors.
"""Seeding the random choices of an episode's pipelines.

``EpisodicDataset`` loads an episode's videos under generators seeded from
``(episodes_seed, episode index)``, so that the pipeline's random choices
(frame offsets, crops, flips) are the same on any number of GPUs and
dataloader workers, and in a resumed run.
"""
import contextlib
import random

import numpy as np
import torch

__all__ = ['seeded_episode']


@contextlib.contextmanager
def seeded_episode(seed: int, index: int):
    """Seed Python's, numpy's and torch's generators for one episode.

    The previous states are restored on exit, so nothing outside the
    episode's loading is affected.

    Args:
        seed (int): The dataset's ``episodes_seed``.
        index (int): The episode index.
    """
    episode_seed = int(
        np.random.default_rng([seed, index, 1]).integers(2**31))
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(episode_seed)
    np.random.seed(episode_seed)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(episode_seed)
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
