# Copyright (c) m2df_mmaction contributors.
"""ResNetAdapted: a frozen MMAction2 ResNet hosting D2ST adapters after its
stages (D2ST-Adapter's ResNet variant)."""
import copy

import pytest
import torch
import torchvision
from mmaction.registry import MODELS
from mmengine.optim import build_optim_wrapper

# 64 px, 4 frames: stage grids 16, 8, 4, 2; the official kernels need 224 px
# and 8 frames (56..7 grids), shrunk here
SMALL = dict(type='D2STResNetAdapter', spatial_kernel=(2, 2, 2),
             spatial_stride=(2, 2, 2), temporal_kernel=(1, 2, 2),
             temporal_stride=(1, 2, 2))


def build(adapter=SMALL, **kwargs):
    return MODELS.build(dict(type='ResNetAdapted', depth=18, num_frames=4,
                             adapter=adapter, **kwargs))


def frames(videos=2, t=4, seed=0, size=64):
    return torch.randn(videos * t, 3, size, size,
                       generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """A torchvision-format ResNet-18 file (``pretrained`` as a path)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('r18') / 'resnet18.pth'
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    return str(path)


def test_starts_as_the_pretrained_resnet(weights, one_thread):
    enc = build(pretrained=weights)
    enc.init_weights()
    plain = MODELS.build(dict(type='ResNet', depth=18, pretrained=weights))
    plain.init_weights()
    enc.eval(), plain.eval()
    x = frames()
    with torch.no_grad():
        assert torch.equal(enc(x), plain(x))  # zero `up`: identity
        for adapter in enc.adapters:
            torch.nn.init.normal_(adapter.up.weight, std=0.05)
        assert not torch.allclose(enc(x), plain(x), atol=1e-3)
    assert enc.adapter_sites == ['layer1', 'layer2', 'layer3', 'layer4']
    assert [a.embed_dims for a in enc.adapters] == [64, 128, 256, 512]
    # the official per-stage heads (1, 2, 4, 8) unless set
    assert [a.s_attn.num_heads for a in enc.adapters] == [1, 2, 4, 8]


def test_only_adapters_train_and_bn_statistics_move(one_thread):
    enc = build(adapter_stages=(1, -1))
    assert enc.adapter_sites == ['layer2', 'layer4']
    trainable = {n for n, p in enc.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith('adapters.') for n in trainable)
    for adapter in enc.adapters:
        torch.nn.init.normal_(adapter.up.weight, std=0.05)
    frozen = {n: p.detach().clone() for n, p in enc.named_parameters()
              if not p.requires_grad}
    stats = enc.layer1[0].conv1.bn.running_mean.clone()
    wrapper = build_optim_wrapper(
        enc, dict(type='OptimWrapper',
                  constructor='TrainableOnlyOptimWrapperConstructor',
                  optimizer=dict(type='Adam', lr=1e-2)))
    listed = {id(p) for g in wrapper.optimizer.param_groups
              for p in g['params']}
    assert listed == {id(p) for p in enc.parameters() if p.requires_grad}
    enc.train()
    enc(frames()).pow(2).mean().backward()
    assert all(p.grad is None for n, p in enc.named_parameters()
               if n in frozen)
    assert all(p.grad is not None for n, p in enc.named_parameters()
               if n in trainable)
    wrapper.step()
    assert all(torch.equal(p, frozen[n]) for n, p in enc.named_parameters()
               if n in frozen)
    # BN in training mode (norm_eval=False), as the official model.train()
    assert not torch.equal(enc.layer1[0].conv1.bn.running_mean, stats)


def test_trainable_only_checkpoint_keeps_the_bn_statistics(weights,
                                                           one_thread):
    enc = build(pretrained=weights, save_trainable_only=True)
    enc.init_weights()
    with torch.no_grad():
        for adapter in enc.adapters:
            torch.nn.init.normal_(adapter.up.weight, std=0.05)
    enc.train()
    enc(frames(seed=1))  # moves the running statistics
    enc.eval()
    state = enc.state_dict()
    assert not any(k in state for k in enc.frozen_keys)
    assert 'layer4.1.conv2.bn.running_var' in state
    x = frames()
    with torch.no_grad():
        expected = enc(x)
    fresh = build(pretrained=weights, save_trainable_only=True).eval()
    fresh.load_state_dict(state, strict=True)
    with torch.no_grad():
        assert torch.equal(fresh(x), expected)
    orphan = build(save_trainable_only=True)
    with pytest.raises(ValueError, match='trainable parts only'):
        orphan.load_state_dict(state)


def test_deepcopy_rewires_the_hooks(one_thread):
    enc = build().eval()
    twin = copy.deepcopy(enc)
    with torch.no_grad():
        for adapter in twin.adapters:
            adapter.up.weight.add_(0.1)
        x = frames()
        before = enc(x)
        assert not torch.allclose(twin(x), before)
        assert torch.equal(enc(x), before)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='stages 0..3'):
        build(adapter_stages=[4])
    with pytest.raises(ValueError, match='freezes the whole ResNet'):
        build(frozen_stages=1)
    with pytest.raises(ValueError, match="attach_to='block'"):
        build(dict(type='D2STAdapter'))
    with pytest.raises(ValueError, match="'NoSuchAdapter' is not an adapter"):
        build(dict(type='NoSuchAdapter'))
    with pytest.raises(ValueError, match='use ResNetAdapted'):
        MODELS.build(dict(type='OpenCLIPAdapted', arch='TinyCLIP-ViT-32',
                          num_frames=4, adapter=SMALL))
    enc = build()
    with pytest.raises(ValueError, match='num_frames=4'):
        enc(frames(videos=1, t=3))
    # the official kernels on 64 px frames: a clear message, not a crash
    official = build(dict(type='D2STResNetAdapter'))
    with pytest.raises(ValueError, match='smaller than the offset kernel'):
        official(frames())
