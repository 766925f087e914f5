# Copyright (c) m2df_mmaction contributors.
"""The TRX, HyRSM, HyRSM++ and MoLo schedules stepped as the runner steps
them, on 1 and 8 GPUs, against the official runs' learning rate at every
episode (docs/recipes.md), and their weight decay against the official
optimizer's name rule on the official parameter names."""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from m2df_mmaction.models.official_keys_common import torchvision_resnet_key
from m2df_mmaction.models.official_keys_hyrsm import hyrsm_official_state_dict
from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.testing import step_schedule

pytestmark = pytest.mark.filterwarnings(
    r'ignore:Detected call of `scheduler.step\(\)` before')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PARITY = osp.join(ROOT, 'tests', 'data', 'parity', 'alibaba')

# The official yamls (configs/projects/<method>/<dataset>/*_{1,5}shot_v1
# .yaml of alibaba-mmai-research/HyRSM, /HyRSMPlusPlus, /MoLo): TRAIN.
# NUM_TRAIN_TASKS, SOLVER.STEPS_ITER, TRAIN.VAL_FRE_ITER, SOLVER.BASE_LR,
# WARMUP_START_LR, STEPS, LRS, RANDOM_SEED, TRAIN.BATCH_SIZE_PER_TASK.
# 4 GPUs x 1 episode per iteration; WARMUP_EPOCHS 1, MAX_EPOCH 10.
_HYRSM = dict(
    ssv2=(40000, 3000, 1000, 1e-4, 2e-5, [0, 6, 9], [1, .1, .01], 0, 4),
    ssv2_small=(20000, 1500, 1000, 1e-4, 2e-5, [0, 4, 8], [1, .1, .01], 18,
                4),
    kinetics100=(1200, 100, 50, 2.2e-5, 5e-6, [0, 4, 6, 9],
                 [1, .5, .1, .05], 18, 4),
    ucf101=(2500, 700, 100, 5e-5, 1e-5, [0, 3, 5, 7], [1, .5, .1, .01], 18,
            4),
    hmdb51=(2000, 300, 50, 5e-5, 1e-5, [0, 2, 3, 7], [1, .5, .1, .01], 18,
            2))
OFFICIAL = dict(
    hyrsm=_HYRSM,
    hyrsmpp=dict(
        _HYRSM,
        kinetics100=(1500, 100, 20, 2.2e-5, 5e-6, [0, 4, 6, 9],
                     [1, .5, .1, .05], 18, 4),
        hmdb51=(2000, 300, 100, 5e-5, 1e-5, [0, 2, 3, 7], [1, .5, .1, .01],
                18, 4)),
    molo=dict(
        ssv2=(50000, 6000, 1000, 1e-4, 2e-5, [0, 6, 9], [1, .1, .01], 8, 4),
        ssv2_small=(20000, 1500, 1000, 1e-4, 2e-5, [0, 4, 8], [1, .1, .01],
                    18, 4),
        kinetics100=(5000, 350, 20, 2e-5, 5e-6, [0, 4, 6], [1, .1, .01], 18,
                     4),
        ucf101=(6000, 2000, 100, 5e-5, 1e-5, [0, 3, 6], [1, .1, .01], 18, 4),
        hmdb51=(2000, 500, 100, 5e-5, 1e-5, [0, 3, 5, 7], [1, .5, .1, .01],
                18, 4)))
CASES = [(m, d) for m in OFFICIAL for d in OFFICIAL[m]]


def official_lr(episode, base, start, steps_iter, steps, lrs):
    """The LR of the Alibaba train loop at an episode (of 4 GPUs):
    ``lr_policy.get_lr_at_epoch`` at the epoch ``floor(i/S) + i/S``."""
    i = episode // 4  # per-GPU iteration
    epoch = i // steps_iter + i / steps_iter  # what the loop passes
    if epoch < 1:  # warm-up to LRS[0] x BASE_LR at WARMUP_EPOCHS = 1
        return start + (base - start) * epoch
    for ind, step in enumerate(steps + [10]):  # get_step_index
        if epoch < step:
            break
    return lrs[ind - 1] * base


def config(method, dataset, arch='r50-in1k', shots=1):
    return Config.fromfile(
        osp.join(ROOT, 'configs', f'{method}_{dataset}_5w{shots}s_{arch}.py'))


@pytest.mark.parametrize('world_size', [1, 8])
@pytest.mark.parametrize('method,dataset', CASES)
def test_schedule_matches_the_official_run(method, dataset, world_size):
    (tasks, steps_iter, val_every, base, start, steps, lrs, seed,
     per_task) = OFFICIAL[method][dataset]
    episodes, per_update = 4 * tasks, 4 * per_task
    cfg = config(method, dataset)
    # 1 GPU and over 30,000 episodes: the schedulers alone (the update
    # count is the 8-GPU run's; stepping 200,000 updates takes minutes)
    update = world_size > 1 or episodes <= 30000
    scaled, ours, num_steps = step_schedule(cfg, world_size, update)
    assert scaled.train_cfg.max_iters * world_size == episodes
    assert scaled.optim_wrapper.accumulative_counts * world_size == \
        per_update
    if update:
        assert num_steps == episodes // per_update
    assert scaled.train_cfg.val_interval * world_size == 4 * val_every
    assert scaled.default_hooks.checkpoint.interval * world_size == \
        4 * val_every
    assert cfg.randomness.seed == seed
    warm_end = 4 * steps_iter

    def official(e):
        return official_lr(e, base, start, steps_iter, steps, lrs)

    changes = [e for e in range(warm_end + 4, episodes, 4)
               if official(e) != official(e - 4)]
    assert changes  # the drops (checked on both sides below)
    for e in {0, warm_end - 1, warm_end, *[c - 1 for c in changes],
              *changes, episodes - 1} | set(range(0, episodes, 997)):
        lr = ours[e // world_size]
        if e < warm_end:  # linear per iteration, official per 4 episodes
            assert abs(lr - official(e)) <= (base - start) * 4 / steps_iter
        else:
            assert lr == pytest.approx(official(e), rel=1e-9), e
    assert ours[0] == pytest.approx(start, rel=1e-12)


@pytest.mark.parametrize('world_size', [1, 8])
def test_trx_schedule_is_the_original_codes(world_size):
    """tobyperrett/trx run.py: SGD 1e-3 constant, 100,020 episodes, an
    update every 16 (and one for the last 4), tests at 75,000 and the
    end."""
    cfg = config('trx', 'ssv2')
    scaled, lrs, num_steps = step_schedule(cfg, world_size,
                                           update=world_size > 1)
    assert scaled.train_cfg.max_iters == -(-100020 // world_size)
    assert set(lrs) == {1e-3}
    if world_size > 1:
        assert num_steps == 6252
    assert scaled.train_cfg.val_begin * world_size == 75000
    assert scaled.train_cfg.val_interval * world_size == 75000
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.momentum, optimizer.weight_decay) == \
        ('SGD', 0.0, 0.0)
    assert cfg.model.cls_head.loss_cls.reduction == 'sum'  # utils.loss


def test_half_gradient_with_l2_is_twice_the_decay_for_adam():
    """HyRSM on HMDB51 steps every 8 episodes on half their mean loss with
    L2 1e-3; the config's mean loss with 2e-3 makes the same updates."""
    torch.manual_seed(0)
    start = torch.randn(50)
    a, b = start.clone().requires_grad_(), start.clone().requires_grad_()
    official = torch.optim.Adam([a], lr=5e-5, weight_decay=1e-3)
    ours = torch.optim.Adam([b], lr=5e-5, weight_decay=2e-3)
    for _ in range(50):
        grad = torch.randn(50)
        a.grad, b.grad = grad / 2, grad.clone()
        official.step()
        ours.step()
    assert torch.allclose(a, b, rtol=0, atol=1e-6)
    assert not torch.allclose(a, start, atol=1e-4)
    cfg = config('hyrsm', 'hmdb51')
    assert (cfg.episodes_per_update, cfg.optim_wrapper.optimizer.weight_decay
            ) == (8, 2e-3)
    assert config('hyrsmpp', 'hmdb51').optim_wrapper.optimizer \
        .weight_decay == 1e-3  # BATCH_SIZE_PER_TASK 4 there


def official_decay(name, weight_decay=1e-3):
    """construct_optimizer's rule on an official parameter name."""
    if any(k in name for k in ('embd', 'cls_token', 'bn', 'norm')):
        return 0.0
    return weight_decay


def decays(model, cfg):
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    by_id = {id(p): g['weight_decay']
             for g in wrapper.optimizer.param_groups for p in g['params']}
    return {n: by_id[id(p)] for n, p in model.named_parameters()
            if p.requires_grad}  # not a fixed logit scale


def resnet50_names():
    """``(official, ours)`` names of every ResNet-50 parameter: the
    official heads hold ``nn.Sequential(*resnet50().children())``."""
    from torchvision.models import resnet50
    stem = {'conv1': '0', 'bn1': '1'}
    out = []
    for name, _ in resnet50().named_parameters():
        child, rest = name.split('.', 1)
        if child == 'fc':
            continue
        index = stem.get(child) or str(int(child[-1]) + 3)  # layer1 -> 4
        official = f'{index}.{rest}'
        out.append((f'backbone.{official}',
                    f'backbone.{torchvision_resnet_key(official)}'))
    return out


def _official_keys(name):
    return torch.load(osp.join(PARITY, f'{name}_state_dict.pt'))['keys']


@pytest.mark.parametrize('method', ['hyrsm', 'molo'])
def test_weight_decay_follows_the_official_names(method):
    cfg = config(method, 'ucf101')
    cfg.model.backbone.pretrained = None
    model = MODELS.build(cfg.model)
    ours = decays(model, cfg)
    pairs = resnet50_names()
    if method == 'molo':  # the head's official keys, mapped by the converter
        for key in _official_keys('molo'):
            mapped, _ = convert_official_state_dict({key: torch.zeros(3)},
                                                    'molo')
            pairs += [(key, k) for k in mapped]
    else:  # the inverse mapping of the head's keys
        head = model.cls_head.state_dict()
        for name in dict(model.cls_head.named_parameters()):
            official = hyrsm_official_state_dict({name: head[name]})
            # to_q/k/v are one official to_qkv (it decays: no bn/norm)
            key = next(iter(official), 'temporal_atte_before.fn.to_qkv')
            pairs.append((key, f'cls_head.{name}'))
    pairs = [(o, n) for o, n in pairs if n in ours]
    assert {n for _, n in pairs} == set(ours)  # every trained parameter
    wrong = [(o, n, ours[n], official_decay(o)) for o, n in pairs
             if ours[n] != official_decay(o)]
    assert not wrong
    # the quirks that decide it: BNs without "bn" in their official name
    assert ours['backbone.conv1.bn.weight'] == 1e-3  # official backbone.1
    assert ours['backbone.layer1.0.downsample.bn.weight'] == 1e-3
    assert ours['backbone.layer1.0.conv1.bn.weight'] == 0.0  # ….bn1
