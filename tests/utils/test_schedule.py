# Copyright (c) m2df_mmaction contributors.
"""Every benchmark schedule, stepped as the runner steps it, on 1-8 GPUs.

The optimizer wrapper and the schedulers are built from each config by
MMEngine's own builders; every iteration does what the runner does
(``update_params`` with the config's accumulation, then one ``step()`` of
every scheduler, as ``ParamSchedulerHook.after_train_iter``). The learning
rate of every episode is compared with the official run's, computed from
the official formulas (docs/method.md §1.4 and §2.4).
"""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn

from m2df_mmaction.testing import step_schedule
from m2df_mmaction.utils import scale_schedule

# A wrapper with accumulation steps the schedulers before its first
# optimizer step, as the runner does; torch warns about it.
pytestmark = pytest.mark.filterwarnings(
    r'ignore:Detected call of `scheduler.step\(\)` before')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LEAVES = sorted(
    path for path in glob.glob(osp.join(ROOT, 'configs', '*_5w?s*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'official', '*.py'))
    if 'demo' not in path)

# The official CLIP-FSAR yamls (docs/method.md §2.4): NUM_TRAIN_TASKS,
# BASE_LR, WARMUP_START_LR, STEPS_ITER, STEPS, VAL_FRE_ITER. LRS [1, 0.1,
# 0.01], MAX_EPOCH 10, WARMUP_EPOCHS 1; 4 GPUs x 1 episode per iteration.
FSAR = dict(
    ssv2=(30000, 5e-5, 1e-5, 4000, [0, 4, 6], 1000),
    ssv2_small=(30000, 5e-5, 2e-5, 2000, [0, 4, 6], 1000),
    kinetics100=(5000, 1e-5, 5e-6, 250, [0, 6, 9], 100),
    ucf101=(3000, 2e-6, 1e-7, 600, [0, 4, 6], 100),
    hmdb51=(5000, 1e-5, 1e-6, 700, [0, 4, 6], 300))


def fsar_official_lr(episode, base, start, steps_iter, steps):
    """The LR of CLIP-FSAR's train loop at an episode (of 4 GPUs)."""
    i = episode // 4  # per-GPU iteration
    epoch = i // steps_iter + i / steps_iter  # what the loop passes
    if epoch < 1:  # warm-up (lr_end = BASE_LR at WARMUP_EPOCHS = 1)
        return start + (base - start) * epoch
    for ind, step in enumerate(steps + [10]):  # get_step_index
        if epoch < step:
            break
    return [1, 0.1, 0.01][ind - 1] * base


def dataset_of(path):
    name = osp.basename(path)
    return name.split('_5w')[0].split('_', 1)[1].replace('fsar_', '')


def test_leaves_of_a_method_and_dataset_share_their_schedule():
    seen = {}
    for path in LEAVES:
        cfg = Config.fromfile(path)
        method = osp.basename(path).split('_')[0]
        key = (method, dataset_of(path))
        if method == 'tsfsar':  # its yamls differ by shot (LRs, weights)
            key += (osp.basename(path).split('_5w')[1][0], )
        if method == 'd2st':  # its ViT and ResNet yamls differ
            key += ('r50' in path, )
        value = (cfg.optim_wrapper.to_dict(), cfg.get('param_scheduler'),
                 cfg.train_cfg.to_dict(), cfg.episodes_per_update,
                 cfg.default_hooks.checkpoint.interval)
        assert seen.setdefault(key, value) == value, path
    # M2DF, CLIP-FSAR, TRX, HyRSM, HyRSM++, MoLo, D2ST-Adapter ViT and
    # ResNet x 5 datasets, TS-FSAR x 5 datasets x 2 shots
    assert len(seen) == 50


@pytest.mark.parametrize('world_size', [1, 2, 4, 8])
@pytest.mark.parametrize('dataset', sorted(FSAR))
def test_clip_fsar_schedule_matches_the_official_run(dataset, world_size):
    tasks, base, start, steps_iter, steps, val_every = FSAR[dataset]
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', f'clip_fsar_{dataset}_5w1s.py'))
    scaled, lrs, num_steps = step_schedule(cfg, world_size)
    episodes = 4 * tasks
    # every GPU count trains the official episodes, 16 per Adam step
    assert scaled.train_cfg.max_iters * world_size == episodes
    assert num_steps == tasks // 4 == episodes // 16
    assert scaled.optim_wrapper.accumulative_counts * world_size == 16
    assert scaled.train_cfg.val_interval * world_size == 4 * val_every
    assert scaled.default_hooks.checkpoint.interval * world_size == \
        4 * val_every
    warm_end = 4 * steps_iter
    drops = [e for e in range(warm_end + 4, episodes, 4)
             if fsar_official_lr(e, base, start, steps_iter, steps) !=
             fsar_official_lr(e - 4, base, start, steps_iter, steps)]
    assert len(drops) == 2  # x0.1 and x0.01
    for episode in {0, warm_end - 1, warm_end, *[d - 1 for d in drops],
                    *drops, episodes - 1} | set(range(0, episodes, 997)):
        ours = lrs[episode // world_size]
        official = fsar_official_lr(episode, base, start, steps_iter, steps)
        if episode < warm_end:  # linear per iteration, official per 4 eps.
            assert abs(ours - official) <= (base - start) * 4 / steps_iter
        else:
            assert ours == pytest.approx(official, rel=1e-9), episode
    assert lrs[0] == pytest.approx(start, rel=1e-12)


@pytest.mark.parametrize('world_size', [1, 2, 4, 8])
def test_m2df_schedule_matches_the_official_run(world_size):
    for path in (osp.join(ROOT, 'configs', 'm2df_ssv2_5w1s.py'),
                 osp.join(ROOT, 'configs', 'official', 'm2df_ssv2_5w1s.py')):
        cfg = Config.fromfile(path)
        scaled, lrs, num_steps = step_schedule(cfg, world_size)
        # 20,020 episodes, rounded up to whole iterations (20,024 on 8)
        assert scaled.train_cfg.max_iters == -(-20020 // world_size)
        # an update every 16 episodes, and one for the last 4
        assert num_steps == 1252
        assert set(lrs) == {1e-6}  # constant
        assert scaled.train_cfg.val_begin * world_size == 14000
        assert scaled.train_cfg.val_interval * world_size == 2000
        assert scaled.optim_wrapper.optimizer.weight_decay == 0


def test_auto_scale_lr_and_impossible_gpu_counts():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'clip_fsar_ssv2_5w1s.py'))
    plain = copy.deepcopy(cfg)
    scale_schedule(plain, 8)
    assert plain.optim_wrapper.optimizer.lr == 5e-5
    auto = copy.deepcopy(cfg)
    auto.auto_scale_lr.enable = True
    auto.episodes_per_update = 32  # twice the official update
    lines = scale_schedule(auto, 8)
    assert auto.optim_wrapper.optimizer.lr == pytest.approx(1e-4)
    assert auto.optim_wrapper.accumulative_counts == 4
    assert not auto.auto_scale_lr.enable  # MMEngine must not scale again
    assert any('auto_scale_lr' in line for line in lines)
    with pytest.raises(ValueError, match='episodes_per_update=32'):
        scale_schedule(copy.deepcopy(cfg), 32)  # 16 % 32
    k100 = Config.fromfile(
        osp.join(ROOT, 'configs', 'clip_fsar_kinetics100_5w1s.py'))
    # 16 GPUs: 1 episode per GPU per update, but the warm-up ends at
    # episode 1,000, which 16 does not divide: refused, named
    with pytest.raises(ValueError, match=r'param_scheduler\[0\].end=1000'):
        scale_schedule(k100, 16)


def test_clip_fsar_weight_decay_follows_the_official_names():
    """Adam weight decay 1e-3, none for names containing 'bn' or 'norm'."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'clip_fsar_ssv2_5w1s.py'))

    class Names(nn.Module):

        def __init__(self):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(2)  # RN50 stem / bottleneck BN
            # RN50's downsample BN is named 'downsample.1'
            self.downsample = nn.Sequential(
                nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2))
            self.ln_pre = nn.LayerNorm(2)  # ViT LayerNorms: 'ln_*'
            self.norm = nn.LayerNorm(2)  # the transformer's 'norm'
            self.proj = nn.Linear(2, 2)

    model = Names()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            decay[id(param)] = group['weight_decay']
    names = {n: decay[id(p)] for n, p in model.named_parameters()}
    assert names['bn1.weight'] == names['norm.bias'] == 0
    # official quirks kept: these do not match 'bn'/'norm' and decay
    assert names['downsample.1.weight'] == names['ln_pre.weight'] == 1e-3
    assert names['proj.bias'] == names['proj.weight'] == 1e-3
    assert isinstance(wrapper.optimizer, torch.optim.Adam)


def _train_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_tool_scales_and_auto_scale_lr(monkeypatch):
    train = _train_tool()
    config = osp.join(ROOT, 'configs', 'clip_fsar_ssv2_5w1s.py')
    args = train.parse_args([config, '--auto-scale-lr'])
    cfg = train.merge_args(Config.fromfile(config), args)
    # 1 process, 16 episodes per update as configured: factor 1, and
    # MMEngine's own scaling (by GPUs) is off
    assert cfg.optim_wrapper.optimizer.lr == 5e-5
    assert cfg.optim_wrapper.accumulative_counts == 16
    assert not cfg.auto_scale_lr.enable
    demo = osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py')
    with pytest.raises(ValueError, match='auto_scale_lr'):
        train.merge_args(Config.fromfile(demo),
                         train.parse_args([demo, '--auto-scale-lr']))
    from m2df_mmaction.utils import world_size_of_launcher
    monkeypatch.setenv('WORLD_SIZE', '8')
    monkeypatch.setenv('SLURM_NTASKS', '4')
    assert world_size_of_launcher('pytorch') == 8
    assert world_size_of_launcher('slurm') == 4
    assert world_size_of_launcher('none') == 1
