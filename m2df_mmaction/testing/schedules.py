# Copyright (c) m2df_mmaction contributors.
"""Step a config's optimizer wrapper and LR schedulers as the runner does."""
import copy
from typing import List, Tuple

from mmaction.registry import PARAM_SCHEDULERS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn

from m2df_mmaction.utils import scale_schedule

__all__ = ['step_schedule']


def step_schedule(cfg: Config,
                  world_size: int,
                  update: bool = True) -> Tuple[Config, List[float], int]:
    """Run a config's whole training schedule on a one-weight model.

    The config is fitted to ``world_size`` processes
    (:func:`~m2df_mmaction.utils.scale_schedule`); the optimizer wrapper
    and the schedulers are built by MMEngine's own builders, and every
    iteration does what the runner does: ``update_params`` (with the
    config's gradient accumulation), then one ``step()`` of every
    scheduler (``ParamSchedulerHook.after_train_iter``).

    Args:
        cfg (Config): A training config (not modified).
        world_size (int): Number of training processes.
        update (bool): Also run ``update_params`` every iteration (counts
            the optimizer steps; ~10x the time of the schedulers alone).
            Defaults to True.

    Returns:
        tuple: The scaled config, the learning rate of every iteration
        (of the first parameter group, before that iteration's update) and
        the number of optimizer steps taken (0 without ``update``).
    """
    cfg = copy.deepcopy(cfg)
    scale_schedule(cfg, world_size)
    model = nn.Linear(1, 1)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper))
        for s in (cfg.get('param_scheduler') or [])
    ]
    max_iters = cfg.train_cfg.max_iters
    wrapper.initialize_count_status(model, 0, max_iters)
    steps = 0
    step = wrapper.optimizer.step

    def counting_step(*args, **kwargs):
        nonlocal steps
        steps += 1
        return step(*args, **kwargs)

    wrapper.optimizer.step = counting_step
    lrs = []
    for _ in range(max_iters):
        lrs.append(wrapper.optimizer.param_groups[0]['lr'])
        if update:
            wrapper.update_params(model.weight.sum(),
                                  zero_kwargs=dict(set_to_none=False))
        for scheduler in schedulers:
            scheduler.step()
    return cfg, lrs, steps
