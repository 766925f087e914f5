# Copyright (c) m2df_mmaction contributors.
"""Train a few-shot recognizer: ``python tools/train.py CONFIG [options]``.

The same options as MMAction2's ``tools/train.py``; the runner, loops and
hooks are MMEngine's own.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmaction.registry import RUNNERS
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

import m2df_mmaction  # noqa: F401  (compat fixes + registration)
from m2df_mmaction.utils import (apply_fewshot_dataset, check_amp,
                                 check_cfg_options, check_checkpoint_file,
                                 check_data_files, check_head_classes,
                                 close_distributed, fix_persistent_workers,
                                 registry_hints, run_main, scale_schedule,
                                 use_gloo_on_cpu, world_size_of_launcher)
from m2df_mmaction.utils.errors import DEBUG_HELP


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a few-shot action recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or, without a path, from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--load-from',
        help='fine-tune: start from the weights of this checkpoint (a new '
        'schedule; --resume continues one)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the episodes per update over the '
        "config's auto_scale_lr.base_batch_size (GPUs do not change the "
        'episodes per update: see README "Train")')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='use a different seed on each rank')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='use deterministic algorithms (cuDNN and torch)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as key=value pairs (lists: '
        'key="[a,b]" or key=a,b; no white space)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--debug', action='store_true', help=DEBUG_HELP)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge command-line arguments into the config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    cfg.launcher = args.launcher
    use_gloo_on_cpu(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp does not support optim_wrapper type '
                             f'{wrapper!r}.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.load_from is not None:
        cfg.load_from = args.load_from
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError(
                f'--auto-scale-lr: {args.config} has no `auto_scale_lr = '
                'dict(base_batch_size=...)` (the batch size its learning '
                'rate was set for); add one or drop --auto-scale-lr.')
        cfg.auto_scale_lr.enable = True
    randomness = cfg.get('randomness', None) or {}
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    apply_fewshot_dataset(cfg, 'train')  # --cfg-options fewshot_dataset=
    # Episode counts -> iterations for this many processes (the same
    # episodes and episodes per update on any number of GPUs).
    for change in scale_schedule(cfg, world_size_of_launcher(args.launcher)):
        print_log(f'Schedule: {change}', logger='current')
    return cfg


def check_inputs(cfg: Config) -> None:
    """What can be checked before the Runner logs the environment and the
    config: the data files, a head classifier smaller than the training
    classes, the checkpoint to resume or load, ``--amp`` without a GPU;
    ``num_workers=0`` turns ``persistent_workers`` off."""
    for change in fix_persistent_workers(cfg):
        print_log(f'Dataloader: {change}', logger='current')
    check_amp(cfg)
    loaders = ['train_dataloader']
    if cfg.get('val_cfg') is not None:
        loaders.append('val_dataloader')
    check_data_files(cfg, loaders)
    check_head_classes(cfg)
    if cfg.get('load_from'):
        check_checkpoint_file(
            cfg.load_from, '--resume' if cfg.get('resume') else 'load_from')


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} not found.')
    cfg = merge_args(Config.fromfile(args.config), args)
    check_inputs(cfg)
    with registry_hints():
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
            else RUNNERS.build(cfg)
        runner.train()
    close_distributed()


if __name__ == '__main__':
    sys.exit(run_main(main))
