# Copyright (c) m2df_mmaction contributors.
"""Test a checkpoint: ``python tools/test.py CONFIG CKPT [options]``.

Runs the config's test episodes (10,000 in the benchmark configs) and prints
the mean episode accuracy with its 95% interval.
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
from m2df_mmaction.utils import (apply_fewshot_dataset, check_cfg_options,
                                 check_checkpoint_file,
                                 check_checkpoint_matches,
                                 check_checkpoint_model, check_data_files,
                                 close_distributed, fix_persistent_workers,
                                 registry_hints, run_main, use_gloo_on_cpu)
from m2df_mmaction.models.open_clip_utils import model_cfg_for_checkpoint
from m2df_mmaction.utils.errors import DEBUG_HELP


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test a few-shot action recognizer')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump the per-episode predictions to a pickle file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as key=value pairs')
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
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump {args.dump}: must be a .pkl file.')
        dump = dict(type='DumpResults', out_file_path=args.dump)
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = [*evaluators, dump]
    cfg.launcher = args.launcher
    use_gloo_on_cpu(cfg)
    cfg.load_from = args.checkpoint
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    apply_fewshot_dataset(cfg, 'test')  # --cfg-options fewshot_dataset=
    return cfg


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} not found.')
    # before the Runner logs the environment and the config
    check_checkpoint_file(args.checkpoint)
    cfg = merge_args(Config.fromfile(args.config), args)
    check_checkpoint_model(cfg.model, args.checkpoint)
    # the network the checkpoint holds: its activation, no pretrained read
    cfg.model = model_cfg_for_checkpoint(cfg.model, args.checkpoint)
    for change in fix_persistent_workers(cfg):
        print_log(f'Dataloader: {change}', logger='current')
    check_data_files(cfg, ['test_dataloader'])
    with registry_hints():
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
            else RUNNERS.build(cfg)
        check_checkpoint_matches(runner.model, args.checkpoint)
        metrics = runner.test()
    close_distributed()
    return metrics


if __name__ == '__main__':
    sys.exit(run_main(main))
