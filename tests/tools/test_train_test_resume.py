# Copyright (c) m2df_mmaction contributors.
"""End to end: tools/train.py, tools/test.py and --resume on tiny data."""
import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Shrink the demo to seconds: 4 iterations, 4 validation/test episodes.
TINY = [
    'train_cfg.max_iters=4', 'train_cfg.val_interval=2',
    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    'param_scheduler.0.end=2', 'param_scheduler.1.begin=2',
    'param_scheduler.1.end=4', 'val_dataloader.dataset.num_episodes=4',
    'test_dataloader.dataset.num_episodes=4'
] + [
    f'{loader}.{key}'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for key in ('num_workers=0', 'persistent_workers=False')
]


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


def test_train_test_resume(tiny_benchmark, tmp_path):
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_benchmark, tmp_path / 'data' / 'synthetic')
    config = osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')
    work_dir = str(tmp_path / 'work')

    out = run_tool('train.py', [
        config, '--work-dir', work_dir, '--seed', '0', '--cfg-options', *TINY
    ], tmp_path)
    assert 'fewshot/accuracy' in out
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    best = [f for f in os.listdir(work_dir) if f.startswith('best_')]
    assert len(best) == 1, os.listdir(work_dir)

    # test the checkpoint, dump the per-episode predictions
    dump = str(tmp_path / 'preds.pkl')
    out = run_tool('test.py', [
        config,
        osp.join(work_dir, 'iter_4.pth'), '--work-dir', work_dir, '--dump',
        dump, '--cfg-options', *TINY
    ], tmp_path)
    assert 'fewshot/ci95' in out
    with open(dump, 'rb') as f:
        episodes = pickle.load(f)
    assert len(episodes) == 4
    assert sorted(e['episode_idx'] for e in episodes) == [0, 1, 2, 3]
    assert episodes[0]['pred_score'].shape == (5, 5)

    # resume from the last checkpoint and train two more iterations
    out = run_tool('train.py', [
        config, '--work-dir', work_dir, '--resume', '--cfg-options',
        *TINY, 'train_cfg.max_iters=6', 'param_scheduler.1.end=6'
    ], tmp_path)
    assert 'resumed' in out.lower() or 'Load checkpoint' in out
    ckpt = torch.load(osp.join(work_dir, 'iter_6.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 6
    # the resumed run continued at iteration 5, it did not restart at 1
    logs = sorted(
        osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs
        if f.endswith('.json') and 'scalars' in f)
    iters = [
        json.loads(line).get('iter') for line in open(logs[-1])
        if '"loss"' in line
    ]
    assert iters == [5, 6], iters
