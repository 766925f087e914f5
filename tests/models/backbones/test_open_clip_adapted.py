# Copyright (c) m2df_mmaction contributors.
"""OpenCLIPAdapted: a frozen CLIP ViT hosting adapters, and the adapters."""
import copy
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.optim import build_optim_wrapper

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
WEIGHTS = osp.join(ROOT, 'm2df_mmaction', 'synthetic', 'weights',
                   'tiny_clip_world.pth')
ARCH = 'TinyCLIP-ViT-32'  # 32 px, patch 8: a 4x4 grid, width 128, 4 blocks
# D2ST's kernels are written for 14x14 grids: shrunk for the 4x4 one
D2ST = dict(type='D2STAdapter', spatial_kernel=(4, 2, 2),
            spatial_stride=(4, 1, 1), temporal_kernel=(1, 2, 2),
            temporal_stride=(1, 2, 2))
ADAPTERS = [D2ST, dict(type='BottleneckAdapter'), dict(type='LoRA', rank=2)]


def build(adapter=D2ST, **kwargs):
    cfg = dict(type='OpenCLIPAdapted', arch=ARCH, num_frames=4,
               adapter=adapter, **kwargs)
    return MODELS.build(cfg)


def frames(videos=2, t=4, seed=0):
    return torch.randn(videos * t, 3, 32, 32,
                       generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('adapter', ADAPTERS,
                         ids=lambda a: a['type'])
def test_starts_as_the_pretrained_tower(adapter, one_thread):
    """Zero-initialised adapters and temporal embedding: exactly the
    tower's own output."""
    torch.manual_seed(0)
    enc = build(adapter, temporal_embedding=True, pretrained=WEIGHTS)
    enc.init_weights()
    # frozen as well: torch's attention then takes the same kernel
    plain = MODELS.build(dict(type='OpenCLIPVisual', arch=ARCH,
                              pretrained=WEIGHTS, freeze_all=True))
    plain.init_weights()
    x = frames()
    with torch.no_grad():
        assert torch.equal(enc(x), plain(x))
        # the adapters do change it once they are not zero
        for p in enc.adapters.parameters():
            p.normal_(0, 0.05)
        assert not torch.allclose(enc(x), plain(x), atol=1e-3)


def test_only_new_parts_train_and_get_gradients(one_thread):
    enc = build(temporal_embedding=True, trainable=('class_embedding',
                                                    'ln_post'))
    for p in enc.adapters.parameters():  # non-zero adapters
        torch.nn.init.normal_(p, std=0.02)
    trainable = {n for n, p in enc.named_parameters() if p.requires_grad}
    assert 'temporal_embedding' in trainable
    assert {'visual.class_embedding', 'visual.ln_post.weight',
            'visual.ln_post.bias'} <= trainable
    assert all(n.startswith(('adapters.', 'temporal_embedding',
                             'visual.class_embedding', 'visual.ln_post'))
               for n in trainable)
    assert len(enc.adapters) == len(enc.visual.transformer.resblocks)
    enc.train()
    assert not enc.visual.training and enc.adapters.training
    enc(frames()).sum().backward()
    for name, p in enc.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name
    # the first block's adapter learns through the frozen blocks after it
    assert enc.adapters[0].down.weight.grad.abs().sum() > 0


def test_optimizer_holds_the_trainable_parameters_only(one_thread):
    enc = build(temporal_embedding=True, trainable=('ln_post', ))
    wrapper = build_optim_wrapper(
        enc, dict(type='OptimWrapper',
                  constructor='TrainableOnlyOptimWrapperConstructor',
                  optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1),
                  paramwise_cfg=dict(norm_decay_mult=0.0)))
    listed = [p for g in wrapper.optimizer.param_groups for p in g['params']]
    wanted = [p for p in enc.parameters() if p.requires_grad]
    assert {id(p) for p in listed} == {id(p) for p in wanted}
    assert len(listed) == len(wanted) < len(list(enc.parameters()))
    # paramwise options survive: LayerNorms without decay, the rest 0.1
    decays = {id(p): g['weight_decay']
              for g in wrapper.optimizer.param_groups for p in g['params']}
    assert decays[id(enc.visual.ln_post.weight)] == 0.0
    assert decays[id(enc.adapters[0].down.weight)] == 0.1
    # without paramwise_cfg MMEngine's default constructor lists the frozen
    # tower too; this one does not
    plain_cfg = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.))
    default = build_optim_wrapper(enc, plain_cfg)
    assert len(default.optimizer.param_groups[0]['params']) == len(
        list(enc.parameters()))
    ours = build_optim_wrapper(
        enc,
        dict(plain_cfg, constructor='TrainableOnlyOptimWrapperConstructor'))
    listed = [p for g in ours.optimizer.param_groups for p in g['params']]
    assert {id(p) for p in listed} == {id(p) for p in wanted}
    assert all(g['lr'] == 1. and g['weight_decay'] == 0.01
               for g in ours.optimizer.param_groups)  # AdamW's defaults


def test_trainable_only_checkpoint_round_trip(one_thread):
    torch.manual_seed(0)
    enc = build(temporal_embedding=True, pretrained=WEIGHTS,
                save_trainable_only=True)
    enc.init_weights()
    with torch.no_grad():
        for p in enc.adapters.parameters():
            p.normal_(0, 0.02)
        enc.temporal_embedding.normal_(0, 0.02)
    state = enc.state_dict()
    assert not any(k in state for k in enc.frozen_keys)
    assert any(k.startswith('adapters.') for k in state)
    full = sum(p.numel() for p in enc.parameters())
    kept = sum(v.numel() for v in state.values())
    assert kept < full / 2
    x = frames()
    with torch.no_grad():
        expected = enc(x)
    # a fresh model (never init_weights: as tools/test.py builds it)
    fresh = build(temporal_embedding=True, pretrained=WEIGHTS,
                  save_trainable_only=True)
    fresh.load_state_dict(state, strict=True)
    with torch.no_grad():
        assert torch.equal(fresh(x), expected)
    # without pretrained weights the frozen tower cannot be restored
    orphan = build(temporal_embedding=True, save_trainable_only=True)
    with pytest.raises(ValueError, match='trainable parts only'):
        orphan.load_state_dict(state)


def test_deepcopy_rewires_the_hooks(one_thread):
    enc = build(dict(type='BottleneckAdapter'))
    twin = copy.deepcopy(enc)
    with torch.no_grad():
        for p in twin.adapters.parameters():
            p.add_(0.1)
        x = frames()
        before = enc(x)
        assert not torch.allclose(twin(x), before)
        assert torch.equal(enc(x), before)  # the original is untouched


def test_lora_attaches_to_the_named_linear_layers():
    enc = build(dict(type='LoRA', rank=2), adapter_layers=[-1],
                adapter_targets=('mlp.c_fc', ))
    assert enc.adapter_sites == ['transformer.resblocks.3.mlp.c_fc']
    fc = enc.visual.transformer.resblocks[3].mlp.c_fc
    assert enc.adapters[0].lora_a.in_features == fc.in_features
    assert enc.adapters[0].lora_b.out_features == fc.out_features


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='no nn.Linear'):
        build(dict(type='LoRA'), adapter_targets=('attn.in_proj', ))
    with pytest.raises(ValueError, match='blocks 0..3'):
        build(adapter_layers=[7])
    with pytest.raises(ValueError, match='names no parameter'):
        build(trainable=('ln_final', ))
    with pytest.raises(ValueError, match='freezes the whole tower'):
        build(frozen_stages=2)
    with pytest.raises(ValueError, match='ViT towers'):
        MODELS.build(dict(type='OpenCLIPAdapted', arch='TinyCLIP-RN-64',
                          num_frames=4))
    enc = build()
    with pytest.raises(ValueError, match='num_frames=4'):
        enc(frames(videos=1, t=3))
    big = build(dict(type='D2STAdapter'))  # 14x14 kernels on a 4x4 grid
    with pytest.raises(ValueError, match='smaller than the offset kernel'):
        for p in big.adapters.parameters():
            torch.nn.init.normal_(p, std=0.02)
        big(frames())
