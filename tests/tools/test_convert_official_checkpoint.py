# Copyright (c) m2df_mmaction contributors.
"""tools/convert_official_checkpoint.py: official names in, a checkpoint
that tools/test.py accepts out."""
import importlib.util
import os.path as osp
import re

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from m2df_mmaction.utils import check_checkpoint_matches

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py')

# Our names -> the official MDMF_CLIPFSAR names (the inverse of the
# documented mapping), to write a checkpoint as the official code would.
TO_OFFICIAL = [
    (r'^backbone\.visual\.', 'backbone.'),
    (r'^cls_head\.fusions\.local\.', 'context2.'),
    (r'^cls_head\.fusions\.global\.', 'context_local.'),
    (r'attns\.(\d+)\.norm\.', r'layers.\1.0.norm.'),
    (r'attns\.(\d+)\.(to_[qkv]|to_out)\.', r'layers.\1.0.fn.\2.'),
    (r'ffns\.(\d+)\.(\d)\.', r'layers.\1.1.net.\2.'),
    (r'^cls_head\.contexts\.local\.convs\.0\.', 'context_conv1.'),
    (r'^cls_head\.contexts\.local\.convs\.1\.', 'context_conv2.'),
    (r'^cls_head\.contexts\.global\.blocks\.', 'tcn.network.'),
    (r'parametrizations\.weight\.original0', 'weight_g'),
    (r'parametrizations\.weight\.original1', 'weight_v'),
]


def _tool():
    spec = importlib.util.spec_from_file_location(
        'convert_official_checkpoint',
        osp.join(ROOT, 'tools', 'convert_official_checkpoint.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_official(model):
    official = {}
    for key, value in model.state_dict().items():
        if key.startswith(('text_encoder.', 'cls_head.log_scale',
                           'backbone.quick_gelu')):
            continue  # the official checkpoints hold none of these
        for pattern, repl in TO_OFFICIAL:
            key = re.sub(pattern, repl, key)
        official[key] = value
    # as the official head: unused convolutions and TCN aliases
    official['context_conv11.weight'] = torch.zeros(1)
    official['tcn.network.0.net.0.bias'] = official['tcn.network.0.conv1.bias']
    return official


def test_official_checkpoint_converts_and_tests(tmp_path):
    torch.manual_seed(3)
    source = MODELS.build(Config.fromfile(CONFIG).model)
    official = str(tmp_path / 'official.pth')
    torch.save({f'module.{k}': v for k, v in _as_official(source).items()},
               official)  # as saved from DataParallel
    out = str(tmp_path / 'converted.pth')
    _tool().main([official, CONFIG, out])
    converted = torch.load(out, map_location='cpu')
    assert converted['meta']['method'] == 'm2df'
    expected = source.state_dict()
    for key, value in converted['state_dict'].items():
        if not key.startswith('text_encoder.'):
            assert torch.equal(value, expected[key]), key
    model = MODELS.build(Config.fromfile(CONFIG).model)
    check_checkpoint_matches(model, out)  # what tools/test.py runs first


def test_checkpoint_of_another_model_is_refused(tmp_path):
    torch.manual_seed(3)
    source = MODELS.build(Config.fromfile(CONFIG).model)
    official = _as_official(source)
    del official['context2.layers.0.0.norm.weight']
    path = str(tmp_path / 'official.pth')
    torch.save(official, path)
    with pytest.raises(KeyError, match='missing'):
        _tool().main([path, CONFIG, str(tmp_path / 'out.pth')])
    fsar = osp.join(ROOT, 'configs', 'clip_fsar_demo_5w1s.py')
    with pytest.raises(ValueError, match='not keys of the official'):
        _tool().main([path, fsar, str(tmp_path / 'out.pth')])
