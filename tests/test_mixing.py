# Copyright (c) m2df_mmaction contributors.
"""Mixing with MMAction2: each configs/mixing config trains and tests.

Every config runs through ``tools/train.py`` (2 iterations or 1 tiny epoch)
and ``tools/test.py`` on the tiny synthetic benchmark, shrunk to seconds:
4 frames, 1 query per class, 2 validation/test episodes.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIXING = osp.join(ROOT, 'configs', 'mixing')

_NO_WORKERS = [
    f'{loader}.{key}'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for key in ('num_workers=0', 'persistent_workers=False')
]
_FOUR_FRAMES = [
    'train_dataloader.dataset.dataset.pipeline.1.num_clips=4',
    'val_dataloader.dataset.dataset.pipeline.1.num_clips=4',
    'test_dataloader.dataset.dataset.pipeline.1.num_clips=4',
]
# Few-shot configs: 2 iterations of 5-way 1-shot 1-query episodes.
EPISODIC = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
    'param_scheduler.1.end=2', 'train_dataloader.dataset.num_queries=1',
    'val_dataloader.dataset.num_episodes=2',
    'test_dataloader.dataset.num_episodes=2'
] + _FOUR_FRAMES + _NO_WORKERS
# Supervised TSN: one epoch of 16 videos, validation/test on 8.
SUPERVISED = [
    'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
    'train_dataloader.dataset.indices=16', 'val_dataloader.dataset.indices=8',
    'test_dataloader.dataset.indices=8',
    'train_dataloader.dataset.pipeline.1.num_clips=4',
    'val_dataloader.dataset.pipeline.1.num_clips=4',
    'test_dataloader.dataset.pipeline.1.num_clips=4'
] + _NO_WORKERS

# config -> (overrides, checkpoint written by training, metric, log keys)
CASES = {
    'tsn_tiny-clip_synthetic-train.py':
    (SUPERVISED, 'epoch_1.pth', 'acc/top1', ('loss_cls', )),
    'otam_r18_demo_5w1s.py': (EPISODIC, 'iter_2.pth', 'fewshot/accuracy',
                              ('loss_cls', )),
    'protonet_r18_demo_5w1s.py': (EPISODIC, 'iter_2.pth', 'fewshot/accuracy',
                                  ('loss_cls', )),
    'otam_vit-videomae_demo_5w1s.py':
    (EPISODIC, 'iter_2.pth', 'fewshot/accuracy', ('loss_cls', )),
    'protonet_vit-videomae_demo_5w1s.py':
    (EPISODIC, 'iter_2.pth', 'fewshot/accuracy', ('loss_cls', )),
    'm2df_r18_tiny-clip-text_demo_5w1s.py':
    (EPISODIC, 'iter_2.pth', 'fewshot/accuracy', ('loss_cls',
                                                  'loss_distill')),
    'two-view-otam_tiny-clip_demo_5w1s.py':
    (EPISODIC, 'iter_2.pth', 'fewshot/accuracy', ('loss_cls',
                                                  'loss_distill')),
}


def run_tool(tool, args, cwd):
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='2')
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', tool), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-3000:]
    return result.stdout + result.stderr


def test_every_mixing_config_is_tested():
    configs = {f for f in os.listdir(MIXING) if f.endswith('.py')}
    assert configs == set(CASES)


@pytest.mark.parametrize('name', sorted(CASES))
def test_mixing_config_trains_and_tests(name, tiny_benchmark, tmp_path):
    overrides, ckpt, metric, log_keys = CASES[name]
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_benchmark, tmp_path / 'data' / 'synthetic')
    config = osp.join(MIXING, name)
    work_dir = str(tmp_path / 'work')

    out = run_tool('train.py', [
        config, '--work-dir', work_dir, '--seed', '0', '--cfg-options',
        *overrides
    ], tmp_path)
    for key in (*log_keys, metric):
        assert key in out, f'{key} not logged:\n{out[-2000:]}'
    assert osp.isfile(osp.join(work_dir, ckpt)), os.listdir(work_dir)

    out = run_tool('test.py', [
        config,
        osp.join(work_dir, ckpt), '--work-dir', work_dir, '--cfg-options',
        *overrides
    ], tmp_path)
    assert metric in out, out[-2000:]
