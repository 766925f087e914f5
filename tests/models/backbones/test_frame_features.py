# Copyright (c) m2df_mmaction contributors.
"""The encoder contract: kinds, shapes, pooled == encode_frames, tokens ==
open_clip's forward_intermediates, the frozen prefix without a graph, the
errors, autocast; on tiny open_clip towers and an MMAction2 ResNet-18."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmaction.models.backbones import MobileNetV2, ResNet
from mmaction.registry import MODELS

import m2df_mmaction  # noqa: F401
from m2df_mmaction.models.backbones import (FrameFeatureRequest,
                                            check_frame_request,
                                            extract_frame_features,
                                            frame_feature_dims,
                                            frame_feature_kinds)
from m2df_mmaction.models.recognizers import FewShotRecognizer

VIT, RN = ('TinyCLIP-ViT-32', 32), ('TinyCLIP-RN-64', 64)
ALL = FrameFeatureRequest(spatial=True, layers=(0, -1))


pytestmark = pytest.mark.usefixtures('one_thread')


def _clip(arch, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='OpenCLIPVisual', arch=arch, **kwargs))


def _frames(size, num=3):
    return torch.randn(num, 3, size, size,
                       generator=torch.Generator().manual_seed(1))


def _encode_frames(backbone, frames, neck=None):
    """Today's path: FewShotRecognizer.encode_frames itself."""
    owner = SimpleNamespace(
        backbone=backbone, neck=neck, with_neck=neck is not None)
    return FewShotRecognizer.encode_frames(owner, frames)


def test_request():
    assert FrameFeatureRequest().kinds == {'frames'}
    req = FrameFeatureRequest.from_kinds(['frames', 'spatial', 'tokens'],
                                         layers=[1, -1])
    assert req == FrameFeatureRequest(True, (1, -1))
    assert req.kinds == {'frames', 'spatial', 'tokens'}
    with pytest.raises(ValueError, match=r"Unknown.*\['patches'\]"):
        FrameFeatureRequest.from_kinds(['patches'])
    with pytest.raises(ValueError, match="'tokens' needs the layers"):
        FrameFeatureRequest.from_kinds(['tokens'])
    with pytest.raises(ValueError, match='duplicates'):
        FrameFeatureRequest(layers=(1, 1))


@pytest.mark.parametrize('arch,size,spatial,tokens', [
    (*VIT, (64, 4, 4), {0: (17, 128), -1: (17, 128)}),
    (*RN, (512, 2, 2), {0: (256, 16), -1: (4, 512)}),
])
def test_open_clip_shapes_and_kinds(arch, size, spatial, tokens):
    enc = _clip(arch).eval()
    assert enc.frame_feature_kinds == {'frames', 'spatial', 'tokens'}
    with torch.no_grad():
        out = extract_frame_features(enc, _frames(size), ALL)
    assert out.pooled.shape == (3, 64)
    assert out.spatial.shape == (3, *spatial)
    assert {k: tuple(v.shape[1:]) for k, v in out.tokens.items()} == tokens
    for layer, (length, _) in tokens.items():  # grid + prefix tokens
        h, w = out.grids[layer]
        assert length - h * w == (1 if arch == VIT[0] else 0)
    assert frame_feature_dims(enc, ALL) == dict(
        frames=64,
        spatial=spatial[0],
        tokens={k: v[1] for k, v in tokens.items()})
    assert extract_frame_features(enc, _frames(size)).spatial is None


@pytest.mark.parametrize('arch,size', [VIT, RN])
@pytest.mark.parametrize('cfg,train', [
    (dict(), False), (dict(), True), (dict(frozen_stages=1), True),
    (dict(frozen_stages=1, with_cp=True), True), (dict(freeze_all=True),
                                                  True)])
def test_pooled_is_todays_encode_frames(arch, size, cfg, train):
    enc = _clip(arch, **cfg).train(train)
    state = {k: v.clone() for k, v in enc.state_dict().items()}
    x = _frames(size)
    expected = _encode_frames(enc, x)
    enc.load_state_dict(state)  # BatchNorm running statistics as before
    for request in (None, ALL):
        out = extract_frame_features(enc, x, request)
        enc.load_state_dict(state)
        assert torch.equal(out.pooled, expected)
    if train:  # BatchNorm statistics move as in one forward
        enc(x)
        after_forward = enc.state_dict()
        enc.load_state_dict(state)
        extract_frame_features(enc, x, ALL)
        for key, value in enc.state_dict().items():
            assert torch.equal(value, after_forward[key]), key


def test_vit_tokens_and_spatial_match_open_clip():
    enc = _clip(VIT[0]).eval()
    v, x = enc.visual, _frames(32)
    with torch.no_grad():
        out = extract_frame_features(
            enc, x, FrameFeatureRequest(spatial=True, layers=(0, 2, -1)))
        ref = v.forward_intermediates(
            x, indices=[0, 2, 3], output_fmt='NLC', output_extra_tokens=True)
        for key, i in ((0, 0), (2, 1), (-1, 2)):
            whole = torch.cat([
                ref['image_intermediates_prefix'][i],
                ref['image_intermediates'][i]
            ], 1)
            assert torch.equal(out.tokens[key], whole)
        assert torch.equal(out.pooled, ref['image_features'])
        # spatial: last block's patch tokens after ln_post and proj
        last = v.ln_post(ref['image_intermediates'][2]) @ v.proj
        torch.testing.assert_close(
            out.spatial, last.reshape(3, 4, 4, 64).permute(0, 3, 1, 2))


def test_resnet_tokens_and_spatial_match_open_clip():
    enc = _clip(RN[0]).eval()
    v, x = enc.visual, _frames(64)
    with torch.no_grad():
        out = extract_frame_features(
            enc, x, FrameFeatureRequest(spatial=True, layers=(0, 2, 4)))
        ref = v.forward_intermediates(x, indices=[0, 2, 4])
        for key, ref_map in zip((0, 2, 4), ref['image_intermediates']):
            assert torch.equal(out.tokens[key],
                               ref_map.flatten(2).transpose(1, 2))
            assert out.grids[key] == tuple(ref_map.shape[-2:])
        assert torch.equal(out.spatial, ref['image_intermediates'][2])
        assert torch.equal(v.attnpool(out.spatial), out.pooled)


def _grad_modes(enc):
    """Record torch.is_grad_enabled() in each tower stage's forward
    (patched methods, not hooks: hooks would end the graph-free
    prefix)."""
    v, seen = enc.visual, {}
    stages = list(v.transformer.resblocks) if hasattr(v, 'transformer') \
        else [v.layer1[0], v.layer2[0], v.layer3[0], v.layer4[0]]
    for i, module in enumerate(stages, start=1):
        def forward(*args, _orig=module.forward, _i=i, **kwargs):
            seen[_i] = torch.is_grad_enabled()
            return _orig(*args, **kwargs)
        module.forward = forward
    return seen


@pytest.mark.parametrize('arch,size', [VIT, RN])
def test_frozen_prefix_keeps_no_graph(arch, size):
    x = _frames(size)
    enc = _clip(arch, freeze_all=True).train()
    seen = _grad_modes(enc)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(
            lambda t: saved.append(t) or t, lambda t: t):
        out = extract_frame_features(enc, x, ALL)
    assert not saved and not any(seen.values())
    for tensor in (out.pooled, out.spatial, *out.tokens.values()):
        assert not tensor.requires_grad and tensor.grad_fn is None

    # frozen_stages=1: stage 0 and stage 1 without graph, the rest trains,
    # with the same loss and gradients as forward()
    enc = _clip(arch, frozen_stages=1).train()
    state = {k: v.clone() for k, v in enc.state_dict().items()}
    seen = _grad_modes(enc)
    enc(x).pow(2).sum().backward()
    expected = {n: p.grad.clone() for n, p in enc.named_parameters()
                if p.grad is not None}
    enc.zero_grad(set_to_none=True)
    enc.load_state_dict(state)
    seen.clear()
    out = extract_frame_features(enc, x, ALL)
    assert seen[1] is False and seen[2] is True
    out.pooled.pow(2).sum().backward()
    grads = {n: p.grad for n, p in enc.named_parameters()
             if p.grad is not None}
    assert grads.keys() == expected.keys() and grads
    for name, grad in grads.items():
        assert torch.equal(grad, expected[name]), name
    assert out.tokens[0].grad_fn is None  # ViT block 0 / ResNet stem
    assert out.tokens[-1].requires_grad


def test_trainable_hook_ends_the_prefix():
    """An adapter hooked into a frozen block still gets gradients."""
    enc = _clip(VIT[0], freeze_all=True).train()
    scale = nn.Parameter(torch.ones(()))
    enc.visual.transformer.resblocks[1].register_forward_hook(
        lambda module, args, output: output * scale)
    out = extract_frame_features(enc, _frames(32), ALL)
    assert out.tokens[0].grad_fn is None  # block 0: before the hook
    out.pooled.sum().backward()
    assert scale.grad is not None


@pytest.fixture(scope='module')
def resnet18():
    torch.manual_seed(0)
    net = ResNet(depth=18, pretrained=None)  # PyTorch's default init
    net.eval()  # MMAction2's train() returns None
    return net


def test_mmaction_resnet(resnet18):
    x = _frames(64)
    assert frame_feature_kinds(resnet18) == {'frames', 'spatial', 'tokens'}
    with torch.no_grad():
        out = extract_frame_features(
            resnet18, x, FrameFeatureRequest(spatial=True, layers=(0, -1)))
        assert torch.equal(out.pooled, _encode_frames(resnet18, x))
        assert torch.equal(out.spatial, resnet18(x))
        assert out.spatial.shape == (3, 512, 2, 2)
        assert out.pooled.shape == (3, resnet18.feat_dim)
        resnet18.out_indices = (0, 1, 2, 3)
        try:
            maps = resnet18(x)
        finally:
            resnet18.out_indices = (3, )
        assert torch.equal(out.tokens[0], maps[0].flatten(2).transpose(1, 2))
        assert out.grids == {0: (16, 16), -1: (2, 2)}
        assert torch.equal(out.tokens[-1].transpose(1, 2).reshape(3, 512, 2,
                                                                  2), maps[3])
    assert frame_feature_dims(resnet18, ALL) == dict(
        frames=512, spatial=512, tokens={0: 64, -1: 512})
    assert not resnet18._forward_hooks and not any(
        m._forward_hooks for m in resnet18.modules())  # hooks removed
    with pytest.raises(ValueError, match=r'depth 18\) has 4 token layers'):
        extract_frame_features(resnet18, x, FrameFeatureRequest(layers=(4, )))


def test_mmaction_resnet_frozen_stages_and_neck():
    torch.manual_seed(0)
    net = ResNet(depth=18, pretrained=None, frozen_stages=2)
    net.train()
    x = _frames(64)
    out = extract_frame_features(net, x, FrameFeatureRequest(layers=(1, 2)))
    assert out.tokens[1].grad_fn is None  # frozen: autograd kept nothing
    assert out.tokens[2].grad_fn is not None
    out.pooled.sum().backward()
    assert net.layer2[0].conv1.conv.weight.grad is None
    assert net.layer3[0].conv1.conv.weight.grad is not None

    neck = nn.Conv2d(512, 8, 1)
    net.eval()
    with torch.no_grad():
        out = extract_frame_features(
            net, x, FrameFeatureRequest(layers=(3, )), neck=neck)
        assert torch.equal(out.pooled, _encode_frames(net, x, neck))
    assert out.pooled.shape == (3, 8)
    with pytest.raises(ValueError, match='a neck is configured'):
        check_frame_request(net, FrameFeatureRequest(spatial=True), neck)


def test_what_an_encoder_cannot_provide():
    net = MobileNetV2(pretrained=None)
    net.eval()
    assert frame_feature_kinds(net) == {'frames'}
    with pytest.raises(
            ValueError,
            match=r"OTAMHead needs \['spatial'\] features, which the encoder "
            r"MobileNetV2 cannot provide.*provides \['frames'\]"):
        check_frame_request(
            net, FrameFeatureRequest(spatial=True), requester='OTAMHead')
    with torch.no_grad():  # pooled frames it does give
        x = _frames(32, num=2)
        assert torch.equal(
            extract_frame_features(net, x).pooled,
            _encode_frames(net, x))
    enc = _clip(VIT[0])
    with pytest.raises(ValueError, match=r'TinyCLIP-ViT-32\) has 4 token '
                       r'layers: valid indices are -4..3'):
        check_frame_request(enc, FrameFeatureRequest(layers=(4, )))


@pytest.mark.parametrize('arch,size', [VIT, RN])
def test_autocast_bfloat16(arch, size, resnet18):
    x = _frames(size)
    for enc in (_clip(arch, frozen_stages=0).train(), resnet18):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            expected = _encode_frames(enc, x)
            out = extract_frame_features(enc, x, ALL)
        assert torch.equal(out.pooled, expected)
        assert all(t.dtype == torch.bfloat16
                   for t in (out.spatial, *out.tokens.values()))
        if enc is not resnet18:
            out.pooled.float().sum().backward()
            assert enc.visual.conv1.weight.grad is None
