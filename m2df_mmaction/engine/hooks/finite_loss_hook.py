# Copyright (c) m2df_mmaction contributors.
"""Stop at the first non-finite loss, naming the term and the episodes."""
import math
from typing import Optional, Sequence

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

__all__ = ['FiniteLossHook']


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise as soon as a loss term is NaN or infinite.

    MMEngine's ``CheckInvalidLossHook`` only asserts on the total loss every
    few iterations; this one checks every ``loss*`` term each iteration (a
    float comparison per term) and says which term went bad, at which
    iteration and on which episodes, so the run can be reproduced.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """
    priority = 'VERY_LOW'

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the logged loss terms of this iteration."""
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        bad = {}
        for key, value in outputs.items():
            if 'loss' not in key:
                continue
            value = float(value.detach()) if isinstance(
                value, torch.Tensor) else float(value)
            if not math.isfinite(value):
                bad[key] = value
        if not bad:
            return
        episodes = _episode_indices(data_batch)
        terms = ', '.join(f'{k} = {v}' for k, v in bad.items())
        raise FloatingPointError(
            f'Non-finite loss at iteration {runner.iter + 1}: {terms} '
            f'(episodes {episodes}). Lower the learning rate or enable '
            'gradient clipping (optim_wrapper.clip_grad); with --amp, check '
            'the loss scale.')


def _episode_indices(data_batch: Optional[dict]) -> Sequence:
    samples = (data_batch or {}).get('data_samples') or []
    return [s.metainfo.get('episode_idx') for s in samples]
