# Copyright (c) m2df_mmaction contributors.
"""A CLIP-FSAR checkpoint as the official code saves it converts: its
``scale`` is ``nn.Parameter(torch.FloatTensor(1))``, shape ``[1]``."""
import importlib.util
import os.path as osp
import re

import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from m2df_mmaction.utils import check_checkpoint_matches

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'clip_fsar_demo_5w1s.py')
# Our names -> CNN_OTAM_CLIPFSAR's (the inverse of the documented mapping)
TO_OFFICIAL = [
    (r'^backbone\.visual\.', 'backbone.'),
    (r'^cls_head\.transformer\.', 'context2.'),
    (r'attns\.(\d+)\.norm\.', r'layers.\1.0.norm.'),
    (r'attns\.(\d+)\.(to_[qkv]|to_out)\.', r'layers.\1.0.fn.\2.'),
    (r'ffns\.(\d+)\.(\d)\.', r'layers.\1.1.net.\2.'),
    (r'^cls_head\.loss_video_text\.scale$', 'scale'),
]


def test_real_clip_fsar_checkpoint_converts(tmp_path):
    torch.manual_seed(5)
    source = MODELS.build(Config.fromfile(CONFIG).model)
    official = {}
    for key, value in source.state_dict().items():
        if key.startswith(('text_encoder.', 'cls_head.log_scale',
                           'backbone.quick_gelu')):
            continue  # the official checkpoints hold neither
        for pattern, repl in TO_OFFICIAL:
            key = re.sub(pattern, repl, key)
        official[key] = value
    assert official['scale'].shape == ()
    official['scale'] = official['scale'].reshape(1)  # as saved officially
    path = str(tmp_path / 'official.pth')
    torch.save({'model_state': official}, path)  # CLIP-FSAR's layout
    spec = importlib.util.spec_from_file_location(
        'convert_official_checkpoint',
        osp.join(ROOT, 'tools', 'convert_official_checkpoint.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path / 'converted.pth')
    tool.main([path, CONFIG, out])
    converted = torch.load(out, map_location='cpu')['state_dict']
    scale = converted['cls_head.loss_video_text.scale']
    assert scale.shape == () and float(scale) == float(official['scale'])
    model = MODELS.build(Config.fromfile(CONFIG).model)
    check_checkpoint_matches(model, out)  # what tools/test.py runs first
