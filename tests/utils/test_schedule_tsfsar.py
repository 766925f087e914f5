# Copyright (c) m2df_mmaction contributors.
"""The TS-FSAR schedules stepped as the runner steps them, against the
official run's learning rate at every episode, and the optimizer's groups
against the official rule on the official names (docs/recipes.md)."""
import math
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

# yaozhang0417/TS-FSAR configs/<dataset>/Metatrain_<k>shot.yaml:
# TRAIN.NUM_TRAIN_TASKS, VAL_FRE_ITER; SOLVER.LSN_LR, LSNHEAD_LR,
# GENERATOR_LR, ADAPTER_ALPHA
OFFICIAL = {
    ('ssv2', 1): (50000, 2000, 2e-4, 2e-4, 2e-4, 1.0),
    ('ssv2', 5): (50000, 2000, 2e-4, 2e-4, 2e-4, 1.0),
    ('ssv2_small', 1): (10000, 500, 2.5e-4, 2.5e-4, 2.5e-4, 1.0),
    ('ssv2_small', 5): (10000, 500, 3e-4, 3e-4, 3e-4, 1.0),
    ('kinetics100', 1): (10000, 500, 2e-4, 2e-4, 1e-4, 0.5),
    ('kinetics100', 5): (10000, 500, 1e-4, 1e-4, 5e-5, 0.5),
    ('hmdb51', 1): (10000, 500, 2e-4, 2e-4, 1e-4, 0.5),
    ('hmdb51', 5): (10000, 500, 2e-4, 2e-4, 1e-4, 0.5),
    ('ucf101', 1): (10000, 500, 1e-4, 1e-4, 1e-4, 0.5),
    ('ucf101', 5): (10000, 500, 1e-4, 1e-4, 5e-5, 0.5),
}


def config(dataset, shots):
    return Config.fromfile(
        osp.join(ROOT, 'configs', f'tsfsar_{dataset}_5w{shots}s_vit-b16.py'))


def official_lr(episode, base, tasks):
    """``cosine_lr(optimizer, 0, NUM_TRAIN_TASKS)`` (utils/functions.py),
    called with ``cur_iter`` after each episode's step (main.py): episode 0
    at the initial LR, episode ``j`` at the value set after ``j - 1``."""
    if episode == 0:
        return base
    return 0.5 * (1 + math.cos(math.pi * (episode - 1) / tasks)) * base


@pytest.mark.parametrize('key', sorted(OFFICIAL))
def test_schedule_matches_the_official_run(key):
    tasks, val_every, base = OFFICIAL[key][:3]
    cfg = config(*key)
    update = key == ('ucf101', 1)  # count the optimizer steps once
    scaled, ours, num_steps = step_schedule(cfg, 1, update)
    assert scaled.train_cfg.max_iters == tasks == len(ours)
    assert scaled.optim_wrapper.accumulative_counts == 1
    if update:
        assert num_steps == tasks  # an AdamW step after every episode
    assert scaled.train_cfg.val_interval == val_every
    assert scaled.default_hooks.checkpoint.interval == val_every
    assert cfg.randomness.seed == 0
    for e in {0, 1, 2, tasks // 2, tasks - 1} | set(range(0, tasks, 613)):
        assert ours[e] == pytest.approx(
            official_lr(e, base, tasks), rel=1e-9, abs=1e-15), e


def test_eight_gpus_are_refused_with_the_key_to_change():
    """The official recipe steps after every episode on one GPU; on 8 an
    update would average 8 episodes, a different recipe: refused before
    training, naming episodes_per_update."""
    with pytest.raises(ValueError, match='episodes_per_update=1 is not a '
                       'multiple of the 8'):
        step_schedule(config('ssv2', 1), 8, update=False)


@pytest.mark.parametrize('key', [('kinetics100', 5), ('ssv2', 1)])
def test_optimizer_groups_follow_the_official_names(key):
    """construct_optimizer's groups: LSNHEAD_LR for names holding Linear,
    up_linear, up_ln; GENERATOR_LR for generator; LSN_LR for side;
    LSN_LR x ADAPTER_ALPHA for Adapter; AdamW, eps 1e-6, decay 0.1 on all of
    them; nothing else in the optimizer."""
    sys.path.insert(0, osp.join(ROOT, 'tests', 'models'))
    from test_official_parity_tsfsar import DATA, build_model
    case = torch.load(osp.join(DATA, 'tsfsar_1shot_train.pt'))
    encoder, head = build_model(case, load=False)
    model = nn.Module()
    model.backbone, model.cls_head = encoder, head
    cfg = config(*key)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(wrapper.optimizer, torch.optim.AdamW)
    groups = {
        id(p): g
        for g in wrapper.optimizer.param_groups for p in g['params']
    }
    ours = dict(model.named_parameters())
    listed = {n for n, p in ours.items() if id(p) in groups}
    assert listed == {n for n, p in ours.items() if p.requires_grad}
    renamed, _ = convert_official_state_dict(
        {n: torch.zeros(1) for n in case['trainable']}, 'tsfsar')
    assert set(renamed) == listed
    _, _, lsn, head_lr, generator, adapter = OFFICIAL[key]

    def ours_of(official_name):  # the gates: one official tensor per layer
        if 'side_gate_params' in official_name:
            return 'backbone.side.gates'
        return next(iter(convert_official_state_dict(
            {official_name: torch.zeros(1)}, 'tsfsar')[0]))

    for name in listed:
        official = [n for n in case['trainable'] if ours_of(n) == name]
        assert official, name
        for n in official:
            if any(k in n for k in ('Linear', 'up_linear', 'up_ln')):
                expected = head_lr
            elif 'side' in n:
                expected = lsn
            elif 'generator' in n:
                expected = generator
            else:
                assert 'Adapter' in n
                expected = lsn * adapter
            group = groups[id(ours[name])]
            assert group['lr'] == pytest.approx(expected, rel=1e-12), n
            assert group['weight_decay'] == 0.1 and group['eps'] == 1e-6
