# Copyright (c) m2df_mmaction contributors.
"""Tiny randomly initialised few-shot models saved as checkpoints, and
support folders of the tiny synthetic benchmark's novel classes."""
import os
import os.path as osp
import shutil

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The demo models (tiny CLIP, 32 px, 8 frames): config per head.
CONFIGS = {
    name: osp.join(ROOT, 'configs', f'{name}_demo_5w1s.py')
    for name in ('m2df', 'otam', 'clip_fsar', 'protonet', 'trx', 'hyrsm')
}
# MoLo's demo: the tiny CLIP's spatial maps, raw frames for its decoder
CONFIGS['molo'] = osp.join(ROOT, 'configs',
                           'molo_tiny-clip-world_demo_5w1s.py')
# D2ST-Adapter's: the shipped tiny CLIP frozen, checkpoints of the trained
# parts only (the frozen tower comes back from the shipped weights)
CONFIGS['d2st'] = osp.join(ROOT, 'configs',
                           'd2st_tiny-clip-world_demo_5w1s.py')
# TS-FSAR's: the shipped tiny CLIP frozen, a side network, classes from
# the shipped grammar-written descriptions
CONFIGS['tsfsar'] = osp.join(ROOT, 'configs',
                             'tsfsar_tiny-clip-world_demo_5w1s.py')
WAYS, SHOTS = 3, 2


def load_config(name):
    """A demo config; ``m2df_argmax`` draws no prompt at test time."""
    cfg = Config.fromfile(CONFIGS[name.replace('_argmax', '')])
    if name.endswith('_argmax'):
        cfg.model.cls_head.prompt_selector.eval_mode = 'argmax'
    return cfg


@pytest.fixture(scope='session')
def checkpoints(tmp_path_factory):
    """``checkpoints(name) -> (config, checkpoint path)``, random weights,
    built once per head and session."""
    folder = tmp_path_factory.mktemp('checkpoints')
    made = {}

    def make(name):
        if name not in made:
            cfg = load_config(name)
            torch.manual_seed(0)
            model = MODELS.build(cfg.model)
            path = str(folder / f'{name}.pth')
            torch.save(dict(state_dict=model.state_dict(), meta={}), path)
            made[name] = (cfg, path)
        return made[name]

    return make


@pytest.fixture(scope='session')
def novel_clips(tiny_benchmark):
    """``{class: [clip paths]}`` of the tiny benchmark's test split (6
    classes x 4 clips, 12 frames of 32 px each)."""
    test = osp.join(tiny_benchmark, 'videos', 'test')
    return {
        c: [osp.join(test, c, f) for f in sorted(os.listdir(osp.join(test,
                                                                     c)))]
        for c in sorted(os.listdir(test))
    }


@pytest.fixture(scope='session')
def support_dir(novel_clips, tmp_path_factory):
    """A support folder: 3 classes x clips 0 and 1."""
    root = tmp_path_factory.mktemp('support')
    for name in list(novel_clips)[:WAYS]:
        os.makedirs(root / name)
        for clip in novel_clips[name][:SHOTS]:
            shutil.copy(clip, root / name)
    return str(root)


@pytest.fixture(scope='session')
def queries(novel_clips):
    """8 query clips: clips 2 and 3 of the first 4 classes (one of them not
    a support class)."""
    return [clip for name in list(novel_clips)[:4]
            for clip in novel_clips[name][2:4]]
