# Copyright (c) m2df_mmaction contributors.
"""Fit an episode-counted schedule to the number of processes.

The benchmark configs count everything in episodes, as if one GPU trained
one episode per iteration: ``train_cfg.max_iters`` / ``val_interval`` /
``val_begin``, every scheduler's ``begin`` / ``end`` / ``milestones`` and
the checkpoint interval. ``episodes_per_update`` says how many episodes an
optimizer step averages (16 in both official codes).

On ``G`` processes with a per-process batch of ``b`` episodes, one
iteration consumes ``G * b`` episodes, so :func:`scale_schedule` divides
every count by ``G * b`` and sets ``optim_wrapper.accumulative_counts =
episodes_per_update / (G * b)``: any number of GPUs trains on the same
episodes, with the same learning rate per episode and the same episodes per
update. (MMEngine offers no such conversion: its ``auto_scale_lr`` scales
the learning rate instead, which changes the recipe.)
"""
import copy
import os
from typing import List

from mmengine.config import Config

__all__ = ['scale_schedule', 'world_size_of_launcher']

_SCHEDULER_COUNTS = ('begin', 'end', 'T_max', 'step_size')
_NO_END = 1_000_000_000  # MMEngine's default ``end`` (INF)


def world_size_of_launcher(launcher: str) -> int:
    """The number of processes a launcher starts, before they start.

    Args:
        launcher (str): ``tools/train.py``'s ``--launcher``: ``'none'``,
            ``'pytorch'`` (torchrun: ``WORLD_SIZE``), ``'slurm'``
            (``SLURM_NTASKS``) or ``'mpi'`` (``OMPI_COMM_WORLD_SIZE``).

    Returns:
        int: The world size (1 without a launcher).
    """
    variable = dict(
        pytorch='WORLD_SIZE', slurm='SLURM_NTASKS',
        mpi='OMPI_COMM_WORLD_SIZE').get(launcher)
    if variable is None:
        return 1
    return int(os.environ.get(variable, 1))


def _divide(value: int, by: int, key: str) -> int:
    if value % by:
        raise ValueError(
            f'{key}={value} episodes is not a multiple of the {by} episodes '
            'each iteration trains (GPUs x train_dataloader.batch_size): '
            'use a number of GPUs (or a batch size) that divides it.')
    return value // by


def scale_schedule(cfg: Config, world_size: int) -> List[str]:
    """Turn a config's episode counts into iteration counts, in place.

    Configs without ``episodes_per_update`` (the CPU demo, stock MMAction2
    configs) are left alone. With ``auto_scale_lr.enable`` the learning
    rate is multiplied by ``episodes_per_update /
    auto_scale_lr.base_batch_size`` and MMEngine's own scaling (by GPUs x
    batch size, which this conversion makes unnecessary) is switched off.

    Args:
        cfg (Config): The config; modified in place.
        world_size (int): Number of training processes ``G``.

    Returns:
        list[str]: One line per changed setting, for the log.

    Raises:
        ValueError: A count that the episodes per iteration do not divide,
            naming the key; or ``episodes_per_update`` that is not a
            multiple of them.
    """
    per_update = cfg.get('episodes_per_update')
    if per_update is None:
        if cfg.get('auto_scale_lr', {}).get('enable'):
            if 'base_batch_size' not in cfg.auto_scale_lr:
                raise ValueError(
                    '--auto-scale-lr needs `auto_scale_lr = dict('
                    'base_batch_size=...)` in the config.')
        return []
    per_iter = world_size * int(cfg.train_dataloader.get('batch_size', 1))
    changes = []

    def set_count(container: dict, key: str, name: str) -> None:
        value = container.get(key)
        if value is None or value >= _NO_END:
            return
        container[key] = _divide(int(value), per_iter, name)
        if per_iter > 1:
            changes.append(f'{name}: {value} -> {container[key]}')

    if per_update % per_iter:
        nearest = per_iter * max(1, round(per_update / per_iter))
        raise ValueError(
            f'episodes_per_update={per_update} is not a multiple of the '
            f'{per_iter} episodes each iteration trains ({world_size} GPUs '
            f'x batch size {per_iter // world_size}): set it to a multiple '
            f'(e.g. --cfg-options episodes_per_update={nearest}) and add '
            '--auto-scale-lr to scale the learning rate with it.')
    # The length rounds up to whole iterations (CLIP-M2DF's 20,020 episodes
    # on 8 GPUs: 2,503 iterations, 4 episodes more); every other count must
    # divide, or validation and LR changes would move.
    max_iters = int(cfg.train_cfg.max_iters)
    cfg.train_cfg.max_iters = -(-max_iters // per_iter)
    if per_iter > 1:
        changes.append(f'train_cfg.max_iters: {max_iters} episodes -> '
                       f'{cfg.train_cfg.max_iters} iterations of {per_iter} '
                       'episodes')
    for key in ('val_interval', 'val_begin'):
        set_count(cfg.train_cfg, key, f'train_cfg.{key}')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, scheduler in enumerate(schedulers):
        if scheduler.get('by_epoch', True):
            raise ValueError(
                f'param_scheduler[{i}] ({scheduler.get("type")}) must count '
                'iterations (by_epoch=False) in an episodic schedule.')
        for key in _SCHEDULER_COUNTS:
            set_count(scheduler, key, f'param_scheduler[{i}].{key}')
        if 'milestones' in scheduler:
            name = f'param_scheduler[{i}].milestones'
            old = list(scheduler['milestones'])
            scheduler['milestones'] = [
                _divide(int(m), per_iter, name) for m in old
            ]
            if per_iter > 1:
                changes.append(f'{name}: {old} -> '
                               f'{scheduler["milestones"]}')
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None and not checkpoint.get('by_epoch', False):
        set_count(checkpoint, 'interval', 'default_hooks.checkpoint.interval')

    if cfg.train_cfg.get('type') == 'EpisodicTrainLoop':
        cfg.train_cfg.episodes_per_iteration = per_iter  # checked on resume
    cfg.optim_wrapper.accumulative_counts = per_update // per_iter
    changes.append(f'optim_wrapper.accumulative_counts = '
                   f'{per_update // per_iter} ({per_update} episodes per '
                   f'update on {world_size} process(es))')

    auto = cfg.get('auto_scale_lr')
    if auto is not None and auto.get('enable'):
        factor = per_update / auto['base_batch_size']
        optimizer = cfg.optim_wrapper.optimizer
        old = copy.deepcopy(optimizer['lr'])
        optimizer['lr'] = old * factor
        auto['enable'] = False  # done here; MMEngine would scale by GPUs
        changes.append(f'optim_wrapper.optimizer.lr: {old} -> '
                       f'{optimizer["lr"]} (auto_scale_lr: '
                       f'{per_update} / {auto["base_batch_size"]} episodes)')
    return changes
