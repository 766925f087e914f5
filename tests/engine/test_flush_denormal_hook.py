# Copyright (c) m2df_mmaction contributors.
"""FlushDenormalHook: flushes during a CPU run, switch, restore, configs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from m2df_mmaction.engine import FlushDenormalHook
from m2df_mmaction.utils import flush_denormal_enabled, set_flush_denormal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LEAVES = [
    c for c in sorted(
        glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))
    if '_base_' not in c
]
SUBNORMAL = 2.0**-140


@pytest.fixture(autouse=True)
def keep_mode():
    before = flush_denormal_enabled()
    yield
    set_flush_denormal(before)


class Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class Record(Hook):
    """What a product that should be subnormal gives during training."""

    def __init__(self):
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        product = torch.full((torch.get_num_threads() * 65536, ),
                             2.0**-100) * 2.0**-40
        self.seen.append(float(product.max()))


def train(tmp_path, cfg, hook_args=None):
    record = Record()
    runner = Runner(
        model=Toy(),
        work_dir=str(tmp_path),
        train_dataloader=DataLoader([torch.ones(2)] * 4, batch_size=2,
                                    collate_fn=lambda x: dict(inputs=x)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            logger=None, checkpoint=None,
            flush_denormal=dict(type='FlushDenormalHook',
                                **(hook_args or {}))),
        custom_hooks=[record],
        default_scope='mmaction',
        cfg=cfg)
    runner.train()
    return record.seen


def test_hook_flushes_during_the_run_and_restores(tmp_path):
    set_flush_denormal(False)
    assert train(tmp_path, Config(dict())) == [0.0, 0.0]  # default: on
    assert not flush_denormal_enabled()  # put back after the run


def test_switch_off_by_config_key(tmp_path):
    set_flush_denormal(False)
    seen = train(tmp_path, Config(dict(flush_denormal=False)))
    assert seen == [SUBNORMAL, SUBNORMAL]


def test_hook_argument_overrides_the_key(tmp_path):
    set_flush_denormal(True)
    seen = train(tmp_path, Config(dict(flush_denormal=True)),
                 dict(enable=False))
    assert seen == [SUBNORMAL, SUBNORMAL]
    assert flush_denormal_enabled()  # put back: it was on
    with pytest.raises(ValueError, match='must be True, False or None'):
        FlushDenormalHook(enable='yes')


def test_every_config_has_it_on():
    """In default_hooks (a config's own custom_hooks list cannot drop it)
    with the switch on."""
    assert LEAVES
    for path in LEAVES:
        cfg = Config.fromfile(path)
        assert cfg.get('flush_denormal') is True, path
        assert cfg.default_hooks.flush_denormal.type == \
            'FlushDenormalHook', path
