# Copyright (c) m2df_mmaction contributors.
"""The D2ST-Adapter schedules stepped as the runner steps them, on 1 and 8
GPUs, against the official run's learning rate at every episode, and the
optimizer's weight decay against the official rule on the official names
(docs/recipes.md)."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn

from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.testing import step_schedule

pytestmark = pytest.mark.filterwarnings(
    r'ignore:Detected call of `scheduler.step\(\)` before')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# qizhongtan/D2ST-Adapter config/<dataset>/ViT_*.yaml: TRAIN.
# NUM_TRAIN_TASKS, SOLVER.STEPS_ITER, TRAIN.VAL_FRE_ITER, SOLVER.BASE_LR,
# WARMUP_START_LR, STEPS, LRS, RANDOM_SEED; NUM_GPUS 2 x 1 episode per
# iteration, BATCH_SIZE_PER_TASK 8; WARMUP_EPOCHS 1, MAX_EPOCH 10.
OFFICIAL = dict(
    ssv2=(120000, 6000, 60000, 1e-3, 2e-4, [0, 4, 6, 8], [1, .5, .1, .05],
          18),
    ssv2_small=(40000, 2000, 20000, 1e-3, 2e-4, [0, 4, 6, 8],
                [1, .1, .05, .01], 18),
    kinetics100=(3000, 150, 1500, 5e-4, 1e-4, [0, 4, 6, 8],
                 [1, .1, .05, .01], 18),
    ucf101=(2400, 120, 1200, 5e-4, 1e-4, [0, 5, 7, 9], [1, .1, .05, .01],
            18),
    hmdb51=(3000, 150, 1500, 1e-3, 2e-4, [0, 5, 7, 9], [1, .5, .1, .05],
            18))
# TRAIN.USE_CLASSIFICATION_VALUE (absent: no classifier), NUM_CLASS
HEAD = dict(ssv2=(2.0, 64), ssv2_small=(0.5, 64), kinetics100=(None, 64),
            ucf101=(None, 70), hmdb51=(2.5, 31))
# The ResNet variant: config/<dataset>/ResNet_*.yaml, the same keys.
OFFICIAL_R50 = dict(
    ssv2=(120000, 6000, 60000, 2e-3, 4e-4, [0, 4, 6, 8], [1, .5, .1, .05],
          18),
    ssv2_small=(40000, 2000, 20000, 2e-3, 4e-4, [0, 4, 6, 8],
                [1, .1, .05, .01], 18),
    kinetics100=(10000, 500, 5000, 2e-3, 4e-4, [0, 2, 5, 8],
                 [1, .1, .05, .01], 18),
    ucf101=(8000, 400, 4000, 2e-3, 4e-4, [0, 2, 5, 8], [1, .5, .1, .05],
            18),
    hmdb51=(8000, 400, 4000, 2e-3, 4e-4, [0, 4, 6, 8], [1, .1, .05, .01],
            18))
HEAD_R50 = dict(ssv2=(1.0, 64), ssv2_small=(0.5, 64), kinetics100=(1.5, 64),
                ucf101=(1.5, 70), hmdb51=(2.0, 31))
VARIANTS = dict(
    vit=('vit-b16', OFFICIAL, HEAD, 'OpenCLIPAdapted'),
    r50=('r50-in1k', OFFICIAL_R50, HEAD_R50, 'ResNetAdapted'))


def official_lr(episode, base, start, steps_iter, steps, lrs):
    """``get_epoch_lr(cur_iter / STEPS_ITER)`` of D2ST's loop (2 GPUs):
    the plain fraction, unlike HyRSM's ``floor(i/S) + i/S``."""
    epoch = (episode // 2) / steps_iter
    if epoch < 1:
        return start + (base - start) * epoch
    for ind, step in enumerate(steps + [10]):
        if epoch < step:
            break
    else:  # past MAX_EPOCH the loop runs out: the last LRS
        ind = len(steps)
    return lrs[ind - 1] * base


def config(dataset, shots=1, variant='vit'):
    suffix = VARIANTS[variant][0]
    return Config.fromfile(
        osp.join(ROOT, 'configs', f'd2st_{dataset}_5w{shots}s_{suffix}.py'))


# Kinetics-100 and HMDB51 warm up over 300 episodes (150 iterations of the
# official 2 GPUs): 8 GPUs cannot split that, and are refused before
# training (the message names the key); 1, 2 and 4 GPUs can.
SPLITS_8 = ('ssv2', 'ssv2_small', 'ucf101')


@pytest.mark.parametrize('world_size', [1, 2, 8])
@pytest.mark.parametrize('dataset', sorted(OFFICIAL))
@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_schedule_matches_the_official_run(variant, dataset, world_size):
    tasks, steps_iter, val_every, base, start, steps, lrs, seed = \
        VARIANTS[variant][1][dataset]
    episodes = 2 * tasks
    cfg = config(dataset, variant=variant)
    # every ResNet warm-up and change splits over 8 GPUs
    if world_size == 8 and variant == 'vit' and dataset not in SPLITS_8:
        with pytest.raises(ValueError, match='not a multiple of the 8'):
            step_schedule(cfg, world_size, update=False)
        step_schedule(cfg, 4, update=False)  # 4 GPUs divide it
        return
    update = world_size > 1 or episodes <= 30000
    scaled, ours, num_steps = step_schedule(cfg, world_size, update)
    assert scaled.train_cfg.max_iters * world_size == episodes
    assert scaled.optim_wrapper.accumulative_counts * world_size == 16
    if update:
        assert num_steps == episodes // 16
    assert scaled.train_cfg.val_interval * world_size == 2 * val_every
    assert scaled.default_hooks.checkpoint.interval * world_size == \
        2 * val_every
    assert cfg.randomness.seed == seed
    warm_end = 2 * steps_iter

    def official(e):
        return official_lr(e, base, start, steps_iter, steps, lrs)

    changes = [e for e in range(warm_end + 2, episodes, 2)
               if official(e) != official(e - 2)]
    assert len(changes) == 3
    for e in {0, warm_end - 1, warm_end, *[c - 1 for c in changes],
              *changes, episodes - 1} | set(range(0, episodes, 997)):
        lr = ours[e // world_size]
        if e < warm_end:  # linear per iteration, official per 2 episodes
            assert abs(lr - official(e)) <= \
                (base - start) * max(2, world_size) / steps_iter
        else:
            assert lr == pytest.approx(official(e), rel=1e-9), e
    assert ours[0] == pytest.approx(start, rel=1e-12)


@pytest.mark.parametrize('dataset', sorted(OFFICIAL))
@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_recipe_head_and_shots(variant, dataset):
    weight, classes = VARIANTS[variant][2][dataset]
    for shots in (1, 5):
        cfg = config(dataset, shots, variant)
        head = cfg.model.cls_head
        assert head.type == 'D2STHead' and head.num_classes == classes
        if weight is None:
            assert head.loss_video_cls is None
        else:
            assert head.loss_video_cls.loss_weight == weight
        # one run trains 1-shot, 1 query per class (SUPPORT_SHOT 1)
        assert cfg.train_dataloader.dataset.num_shots == 1
        assert cfg.train_dataloader.dataset.num_queries == 1
        assert cfg.test_dataloader.dataset.num_shots == shots
        assert cfg.model.backbone.type == VARIANTS[variant][3]
        assert cfg.model.text_encoder is None


def test_four_times_the_gradient_with_l2_is_a_quarter_decay_for_adam():
    """The official step: 4 x the mean-loss gradient + 1e-3 theta; the
    config: the mean-loss gradient + 2.5e-4 theta. Same Adam updates."""
    torch.manual_seed(0)
    start = torch.randn(50)
    target = torch.randn(50)
    official = nn.Parameter(start.clone())
    ours = nn.Parameter(start.clone())
    opt_official = torch.optim.Adam([official], lr=1e-2, weight_decay=1e-3,
                                    eps=1e-12)
    wd = config('ssv2').optim_wrapper.optimizer.weight_decay
    opt_ours = torch.optim.Adam([ours], lr=1e-2, weight_decay=wd, eps=1e-12)
    for _ in range(50):
        for p, opt, scale in ((official, opt_official, 4.0),
                              (ours, opt_ours, 1.0)):
            opt.zero_grad()
            (scale * ((p - target)**2).mean()).backward()
            opt.step()
    torch.testing.assert_close(ours, official, atol=1e-6, rtol=0)
    assert wd == 1e-3 / 4


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_weight_decay_follows_the_official_names(variant):
    """Every trainable parameter decays as construct_optimizer decides on
    its official name ("bn", "norm", "embd", "cls_token": none)."""
    sys.path.insert(0, osp.join(ROOT, 'tests', 'models'))
    if variant == 'vit':
        from test_official_parity_d2st import DATA, build_model
    else:
        from test_official_parity_d2st_resnet import DATA, build_model
    case = torch.load(
        osp.join(DATA, f'd2st_{"vit" if variant == "vit" else "resnet"}'
                 '_1shot_train.pt'))
    encoder, head = build_model(case['settings'])
    model = nn.Module()
    model.backbone, model.cls_head = encoder, head
    cfg = config('ssv2', variant=variant)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {
        id(p): g['weight_decay']
        for g in wrapper.optimizer.param_groups for p in g['params']
    }
    ours = dict(model.named_parameters())
    listed = {n for n, p in ours.items() if id(p) in decay}
    assert listed == {n for n, p in ours.items() if p.requires_grad}
    renamed, _ = convert_official_state_dict(
        {n: torch.zeros(1) for n in case['trainable']}, 'd2st')
    names = dict(zip(renamed, case['trainable']))
    assert set(names) == listed
    for name, official in names.items():
        no_decay = any(k in official
                       for k in ('bn', 'norm', 'embd', 'cls_token'))
        expected = 0.0 if no_decay else 2.5e-4
        assert decay[id(ours[name])] == pytest.approx(expected), official
    assert any(n for n in names.values() if 'norm' in n)  # both cases seen
    if variant == 'r50':  # LayerNormProxy: the adapters' s_ln / t_ln too
        assert any('s_ln.norm' in n for n in names.values())
