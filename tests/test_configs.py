# Copyright (c) m2df_mmaction contributors.
"""Every config parses and builds its model at random init (offline)."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from m2df_mmaction.models.recognizers.head_wiring import (check_head_needs,
                                                          complete_head_cfg)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                           recursive=True))
LEAVES = [c for c in CONFIGS if '_base_' not in c]


def test_the_grid_is_complete():
    names = {osp.basename(c) for c in LEAVES}
    assert 'm2df_ssv2_5w1s.py' in names  # users type this name
    for method in ('m2df', 'clip_fsar'):
        for dataset in ('ssv2', 'ssv2_small', 'kinetics100', 'ucf101',
                        'hmdb51'):
            for shots in (1, 5):
                for arch in ('', '_vit-b16'):
                    name = f'{method}_{dataset}_5w{shots}s{arch}.py'
                    assert name in names, name
    # the baselines' recipes: an ImageNet ResNet-50 (the papers') and a
    # CLIP whose width the head takes (MoLo needs spatial maps of the frame
    # width: the ViT's projected patch tokens, not RN50's 2048-wide layer4)
    clip = dict(trx='clip-rn50', hyrsm='clip-rn50', hyrsmpp='clip-rn50',
                molo='vit-b16')
    for method, arch in clip.items():
        for dataset in ('ssv2', 'ssv2_small', 'kinetics100', 'ucf101',
                        'hmdb51'):
            for shots in (1, 5):
                for suffix in ('r50-in1k', arch):
                    name = f'{method}_{dataset}_5w{shots}s_{suffix}.py'
                    assert name in names, name
    # the frozen generation: ViT-B/16, and D2ST's ImageNet ResNet-50 variant
    for dataset in ('ssv2', 'ssv2_small', 'kinetics100', 'ucf101', 'hmdb51'):
        for shots in (1, 5):
            assert f'd2st_{dataset}_5w{shots}s_vit-b16.py' in names
            assert f'd2st_{dataset}_5w{shots}s_r50-in1k.py' in names
            assert f'tsfsar_{dataset}_5w{shots}s_vit-b16.py' in names
    for demo in ('m2df', 'clip_fsar', 'otam', 'protonet', 'trx', 'hyrsm',
                 'hyrsmpp', 'molo', 'd2st'):
        assert f'{demo}_demo_5w1s.py' in names
        assert f'{demo}_tiny-clip-world_demo_5w1s.py' in names


# Encoders built once per encoder config: 120 benchmark leaves share 6 of
# them (building a ResNet-50 or ViT-B/16 per leaf would take minutes).
_ENCODERS = {}


def _build(cfg):
    """The model, or ``(encoder, head)`` when an earlier leaf built the same
    encoders (the head then gets what FewShotRecognizer gives it: its
    ``embed_dims`` from the encoder, its needs checked against it)."""
    key = json.dumps(
        [cfg.model.get(k) for k in ('type', 'backbone', 'text_encoder',
                                    'neck', 'data_preprocessor')],
        sort_keys=True, default=str)
    if key not in _ENCODERS:
        model = MODELS.build(cfg.model)
        if getattr(model, 'backbone', None) is not None and \
                hasattr(model, 'cls_head'):
            _ENCODERS[key] = model
        return model, model
    model = _ENCODERS[key]
    text = getattr(model, 'text_encoder', None)
    head = MODELS.build(complete_head_cfg(cfg.model.cls_head, model.backbone,
                                          text))
    check_head_needs(head, model.backbone, text, getattr(model, 'neck',
                                                         None))
    return model, head


@pytest.mark.parametrize(
    'path', LEAVES, ids=[osp.relpath(c, ROOT) for c in LEAVES])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmaction'
    assert 'm2df_mmaction' in cfg.custom_imports.imports
    for key in ('backbone', 'text_encoder'):
        if cfg.model.get(key) and 'pretrained' in cfg.model[key]:
            cfg.model[key].pretrained = None  # random init, no download
    model, head = _build(cfg)
    trainable = [p for part in (model, head) for p in part.parameters()
                 if p.requires_grad]
    assert trainable
    if getattr(model, 'text_encoder', None) is not None:
        assert not any(p.requires_grad
                       for p in model.text_encoder.parameters())
    # few-shot benchmark configs: fixed test episodes, no flip on SSv2
    test_set = cfg.test_dataloader.dataset
    name = osp.basename(path)
    if test_set.type == 'EpisodicDataset' and 'demo' not in name:
        assert test_set.num_episodes == 10000
        assert test_set.num_queries == 1
        # training queries per class: 5, except the Alibaba yamls'
        # QUERY_PER_CLASS (HyRSM/HyRSM++ 7 at 1 shot, 3 at 5; MoLo 6) and
        # D2ST-Adapter's (1: its one run trains 1-shot with 1 query)
        train_set = cfg.train_dataloader.dataset
        method = name.split('_')[0].replace('pp', '')
        queries = dict(hyrsm=7 if train_set.num_shots == 1 else 3,
                       molo=6, d2st=1).get(method, 5)
        assert train_set.num_queries == queries
        assert cfg.optim_wrapper.accumulative_counts == \
            cfg.episodes_per_update
        assert cfg.default_hooks.checkpoint.save_best == 'fewshot/accuracy'
        if 'ssv2' in path:  # direction-sensitive classes: no flip ...
            pipeline = cfg.train_dataloader.dataset.dataset.pipeline
            flips = any(t['type'] == 'Flip' for t in pipeline)
            # ... except where the official loader flips every dataset
            # (M2DF's official numerics, TRX's recipe)
            assert flips == ('official' in path or name.startswith('trx_'))
    del model, head
    torch.cuda.empty_cache() if torch.cuda.is_available() else None


@pytest.mark.parametrize('method',
                         ['m2df', 'clip_fsar', 'otam', 'protonet', 'trx',
                          'hyrsm', 'hyrsmpp', 'molo'])
def test_tiny_clip_world_configs_start_from_the_shipped_weights(method):
    """The ``*_tiny-clip-world_demo_5w1s`` configs load both towers of the
    shipped checkpoint and put class names into its captions' template;
    everything else is their random-weight counterpart's."""
    from m2df_mmaction.synthetic import CLASS_TEMPLATE, TINY_CLIP_WORLD
    world = Config.fromfile(osp.join(
        ROOT, 'configs', f'{method}_tiny-clip-world_demo_5w1s.py'))
    demo = Config.fromfile(osp.join(ROOT, 'configs',
                                    f'{method}_demo_5w1s.py'))
    assert world.model.cls_head == demo.model.cls_head
    assert world.param_scheduler == demo.param_scheduler
    assert world.train_cfg == demo.train_cfg
    shipped = torch.load(TINY_CLIP_WORLD, weights_only=True)['state_dict']
    model = MODELS.build(world.model)  # paths are relative to the repo root
    model.init_weights()  # the weights load here, as training starts
    visual = model.backbone.visual.state_dict()
    for key, value in visual.items():
        assert torch.equal(value, shipped[f'visual.{key}'].float()), key
    if demo.model.get('text_encoder') is None:
        assert model.text_encoder is None
        return
    assert model.text_encoder.template == CLASS_TEMPLATE
    assert torch.equal(model.text_encoder.token_embedding.weight,
                       shipped['token_embedding.weight'].float())
    assert torch.equal(model.text_encoder.text_projection,
                       shipped['text_projection'].float())
