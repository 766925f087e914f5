# Copyright (c) m2df_mmaction contributors.
"""Mixing with MMAction2: each configs/mixing config trains and tests.

Every config runs through ``tools/train.py`` (2 iterations or 1 tiny epoch)
and ``tools/test.py`` on the tiny synthetic benchmark, shrunk to seconds:
4 frames, 1 query per class, 2 validation/test episodes. The tools run
in-process (their ``main(argv)``): a fresh interpreter spends longer
importing MMAction2 than these runs take.
"""
import importlib.util
import json
import os
import os.path as osp

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
    'd2st_r18_demo_5w1s.py':
    (EPISODIC + ['model.backbone.num_frames=4'], 'iter_2.pth',
     'fewshot/accuracy', ('loss_cls', 'loss_video_cls')),
}


def load_tool(name):
    """Import ``tools/<name>.py`` (in-process runs skip a 15 s start-up)."""
    spec = importlib.util.spec_from_file_location(
        f'm2df_tools_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def logged_keys(work_dir):
    """Every key of MMEngine's scalar logs under ``work_dir``."""
    keys = set()
    for dirpath, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(dirpath, 'scalars.json')) as f:
                for line in f:
                    keys.update(json.loads(line))
    return keys


def test_every_mixing_config_is_tested():
    configs = {f for f in os.listdir(MIXING) if f.endswith('.py')}
    assert configs == set(CASES)


@pytest.mark.parametrize('name', sorted(CASES))
def test_mixing_config_trains_and_tests(name, tiny_benchmark, tmp_path,
                                        monkeypatch):
    overrides, ckpt, metric, log_keys = CASES[name]
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_benchmark, tmp_path / 'data' / 'synthetic')
    config = osp.join(MIXING, name)
    work_dir = str(tmp_path / 'work')

    monkeypatch.chdir(tmp_path)
    load_tool('train').main([
        config, '--work-dir', work_dir, '--seed', '0', '--cfg-options',
        *overrides
    ])
    assert osp.isfile(osp.join(work_dir, ckpt)), os.listdir(work_dir)
    missing = {*log_keys, metric} - logged_keys(work_dir)
    assert not missing, f'not logged: {missing}'

    metrics = load_tool('test').main([
        config,
        osp.join(work_dir, ckpt), '--work-dir', work_dir, '--cfg-options',
        *overrides
    ])
    assert 0 <= metrics[metric] <= 100, metrics
