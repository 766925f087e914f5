# Copyright (c) m2df_mmaction contributors.
"""Results never depend on luck: resume, workers, processes."""
import os
import os.path as osp
import pickle
import random
import socket
import subprocess
import sys

import pytest
import torch

from m2df_mmaction.datasets import ResumableInfiniteSampler

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py')


def tiny_options(workers=0, iters=4):
    opts = [
        f'train_cfg.max_iters={iters}', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.max_keep_ckpts=5',
        'default_hooks.logger.interval=1', 'param_scheduler.0.end=2',
        'param_scheduler.1.begin=2', 'param_scheduler.1.end=4',
        'val_dataloader.dataset.num_episodes=4',
        'test_dataloader.dataset.num_episodes=6',
        'train_dataloader.dataset.num_queries=2'
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.num_workers={workers}',
            f'{loader}.persistent_workers={workers > 0}'
        ]
    return opts


def run(args, cwd, tool=None):
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
    cmd = ['bash', osp.join(ROOT, 'tools', tool)] if tool.endswith('.sh') \
        else [sys.executable, osp.join(ROOT, 'tools', tool)]
    result = subprocess.run(
        cmd + list(args),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + \
        result.stderr[-4000:]
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def workspace(tiny_benchmark, tmp_path_factory):
    root = tmp_path_factory.mktemp('reliability')
    os.makedirs(root / 'data')
    os.symlink(tiny_benchmark, root / 'data' / 'synthetic')
    return root


@pytest.fixture(scope='module')
def trained(workspace):
    """4 uninterrupted iterations (the reference of the resume test)."""
    work = str(workspace / 'straight')
    run([
        CONFIG, '--work-dir', work, '--seed', '0', '--deterministic',
        '--cfg-options', *tiny_options()
    ], workspace, 'train.py')
    return work


def test_sampler_skip_equals_consuming():
    sampler = ResumableInfiniteSampler(list(range(10)), shuffle=True, seed=3)
    stream = iter(sampler)
    consumed = [next(stream) for _ in range(23)]
    skipped = ResumableInfiniteSampler(list(range(10)), shuffle=True, seed=3)
    next(iter(skipped))  # a prefetch before the resume must not matter
    skipped.skip(17)
    restarted = iter(skipped)
    assert [next(restarted) for _ in range(6)] == consumed[17:]


def test_resume_gives_the_uninterrupted_model(workspace, trained):
    work = str(workspace / 'resumed')
    run([
        CONFIG, '--work-dir', work, '--seed', '0', '--deterministic',
        '--cfg-options', *tiny_options(iters=2)
    ], workspace, 'train.py')
    # Resumed with another --seed (as when the original one is forgotten):
    # the checkpoint's seed 0 still orders the episodes and seeds training.
    out = run([
        CONFIG, '--work-dir', work, '--seed', '7', '--deterministic',
        '--resume', '--cfg-options', *tiny_options(iters=4)
    ], workspace, 'train.py')
    assert 'without loading the skipped episodes' in out
    assert "follows the checkpoint's seed 0" in out
    straight = torch.load(osp.join(trained, 'iter_4.pth'))['state_dict']
    resumed = torch.load(osp.join(work, 'iter_4.pth'))['state_dict']
    assert straight.keys() == resumed.keys()
    different = [k for k in straight if not torch.equal(straight[k],
                                                        resumed[k])]
    assert not different, different[:5]
    # and training did change the model
    start = torch.load(osp.join(work, 'iter_2.pth'))['state_dict']
    assert any(not torch.equal(start[k], resumed[k]) for k in start)


def dumped(path):
    with open(path, 'rb') as f:
        episodes = pickle.load(f)
    return {
        e['episode_idx']: (e['pred_label'].tolist(), e['pred_score'])
        for e in episodes
    }


def assert_same_predictions(a, b):
    assert a.keys() == b.keys() and len(a) == 6
    for idx in a:
        assert a[idx][0] == b[idx][0], idx
        assert torch.allclose(a[idx][1], b[idx][1], atol=1e-5), idx


def test_same_accuracy_with_0_and_2_workers(workspace, trained):
    ckpt = osp.join(trained, 'iter_4.pth')
    results = []
    for workers in (0, 2):
        dump = str(workspace / f'workers{workers}.pkl')
        run([
            CONFIG, ckpt, '--work-dir',
            str(workspace / f'test{workers}'), '--dump', dump,
            '--cfg-options', *tiny_options(workers)
        ], workspace, 'test.py')
        results.append(dumped(dump))
    assert_same_predictions(*results)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_train_and_test_like_one(workspace, trained):
    """dist_train.sh / dist_test.sh with gloo on CPU, 2 processes."""
    env_port = dict(PORT=str(free_port()))
    os.environ.update(env_port)
    try:
        work = str(workspace / 'dist')
        out = run([
            CONFIG, '2', '--work-dir', work, '--seed', '0',
            '--cfg-options', *tiny_options(iters=2)
        ], workspace, 'dist_train.sh')
        assert 'fewshot/accuracy' in out
        assert osp.isfile(osp.join(work, 'iter_2.pth'))

        ckpt = osp.join(trained, 'iter_4.pth')
        one, two = str(workspace / 'one.pkl'), str(workspace / 'two.pkl')
        run([CONFIG, ckpt, '--dump', one, '--cfg-options', *tiny_options()],
            workspace, 'test.py')
        os.environ['PORT'] = str(free_port())
        run([
            CONFIG, ckpt, '2', '--dump', two, '--cfg-options',
            *tiny_options()
        ], workspace, 'dist_test.sh')
        assert_same_predictions(dumped(one), dumped(two))
    finally:
        os.environ.pop('PORT', None)


def test_frozen_parameters_need_no_find_unused(workspace):
    """Frozen text encoder: requires_grad False, so DDP sees no unused."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model)
    assert cfg.get('model_wrapper_cfg') is None  # no find_unused_parameters
    assert all(not p.requires_grad for p in model.text_encoder.parameters())
    random.seed(0)
