# Copyright (c) m2df_mmaction contributors.
"""Seed each training iteration from (seed, iteration, rank)."""
import random

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook

__all__ = ['IterationSeedHook']


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Make the model's training randomness a function of the iteration.

    Before each training iteration, torch's, numpy's and Python's global
    generators are seeded from ``(seed, iteration, rank)``. Dropout and the
    prompt selector's draws then do not depend on what else used the
    generators before (validation, a dataloader drawing its workers' seeds,
    a resume), so ``--resume`` continues exactly as the uninterrupted run and
    the validation interval does not change training. The data side is
    already a function of the episode index (:class:`EpisodicDataset`).

    MMEngine restores weights, optimizer, schedulers, the iteration and the
    seed on resume, but not the generator states; storing those would not be
    enough either, since code between iterations also draws from them.

    Args:
        seed (int, optional): Base seed. Defaults to the runner's seed
            (``randomness.seed``, saved in and resumed from checkpoints).
    """
    priority = 'VERY_HIGH'

    def __init__(self, seed=None) -> None:
        self.seed = seed

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Seed the generators for iteration ``runner.iter``."""
        base = self.seed if self.seed is not None else runner.seed
        state = np.random.SeedSequence(
            [int(base or 0), runner.iter, get_rank()]).generate_state(1)
        seed = int(state[0])
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
