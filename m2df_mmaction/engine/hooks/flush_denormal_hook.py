# Copyright (c) m2df_mmaction contributors.
"""Flush subnormal floats to zero while a CPU run is running."""
from typing import Optional

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

from m2df_mmaction.utils.denormal import (FLUSH_DENORMAL_KEY,
                                          flush_denormal_for_device,
                                          flush_denormal_setting,
                                          set_flush_denormal)

__all__ = ['FlushDenormalHook']


@HOOKS.register_module()
class FlushDenormalHook(Hook):
    """Flush subnormal floats to zero for a run whose model is on the CPU.

    Without it, AdamW's moment estimates of parameters whose gradient stays
    zero decay into the subnormal float range and the CPU demo's training
    slows down about threefold after episode ~600
    (:mod:`m2df_mmaction.utils.denormal`, docs/benchmarks.md). In
    ``before_run`` (of ``train``, ``val`` and ``test``) it sets the flush
    mode on every torch CPU thread when the model's parameters are on the
    CPU; ``after_run`` puts back the previous mode. On a GPU it does nothing
    (the CUDA kernels do not depend on it).

    It sits in ``default_hooks`` of ``configs/_base_/default_runtime.py``
    (a dict merged key by key, so a config that sets its own
    ``custom_hooks`` list keeps it); the switch is the config's top-level
    ``flush_denormal`` (``--cfg-options flush_denormal=False``), which the
    inference API reads as well.

    Args:
        enable (bool, optional): Flush or not; None (default) reads the
            runner's config ``flush_denormal`` (True when absent).
    """
    priority = 'VERY_HIGH'

    def __init__(self, enable: Optional[bool] = None) -> None:
        if enable is not None and not isinstance(enable, bool):
            raise ValueError(f'FlushDenormalHook(enable={enable!r}): must '
                             'be True, False or None.')
        self.enable = enable
        self._previous: Optional[bool] = None

    def before_run(self, runner) -> None:
        """Set the mode if the model runs on the CPU."""
        enable = self.enable
        if enable is None:
            enable = flush_denormal_setting(runner.cfg)
        param = next(runner.model.parameters(), None)
        device = param.device if param is not None else 'cpu'
        self._previous = flush_denormal_for_device(enable, device)
        if self._previous is not None:
            state = 'flushed to zero' if enable else 'kept'
            print_log(
                f'Subnormal floats are {state} in CPU arithmetic '
                f'({FLUSH_DENORMAL_KEY}={enable}).',
                logger='current')

    def after_run(self, runner) -> None:
        """Put back the mode found in :meth:`before_run`."""
        if self._previous is not None:
            set_flush_denormal(self._previous)
            self._previous = None
