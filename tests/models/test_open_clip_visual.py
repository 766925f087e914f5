# Copyright (c) m2df_mmaction contributors.
"""OpenCLIPVisual: registry build, shapes, freezing, init, Recognizer2D."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from torch.nn.modules.batchnorm import _BatchNorm

import m2df_mmaction  # noqa: F401
from m2df_mmaction.models import OpenCLIPVisual


pytestmark = pytest.mark.usefixtures('one_thread')


def _build(**kwargs):
    cfg = dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32')
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _frozen_names(model):
    return {n for n, p in model.named_parameters() if not p.requires_grad}


@pytest.mark.parametrize('arch,size', [('TinyCLIP-ViT-32', 32),
                                       ('TinyCLIP-RN-64', 64)])
def test_build_and_shapes(arch, size):
    model = _build(arch=arch)
    assert isinstance(model, OpenCLIPVisual)
    assert model.embed_dims == 64
    out = model(torch.randn(3, 3, size, size))
    assert out.shape == (3, 64)
    # only the visual tower, under open_clip's key names, and the
    # activation it was built with
    assert all(
        k.startswith('visual.') for k in model.state_dict()
        if k != 'quick_gelu')
    assert model.state_dict()['quick_gelu'].item() is False
    assert not _frozen_names(model)


def test_vit_frozen_stages():
    model = _build(frozen_stages=1)
    frozen = _frozen_names(model)
    assert {
        'visual.conv1.weight', 'visual.class_embedding',
        'visual.positional_embedding', 'visual.ln_pre.weight'
    } <= frozen
    assert any(n.startswith('visual.transformer.resblocks.0.') for n in frozen)
    assert not any(
        n.startswith(('visual.transformer.resblocks.1.', 'visual.ln_post',
                      'visual.proj')) for n in frozen)
    model.train()
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    for name, param in model.named_parameters():
        assert (param.grad is None) == (name in frozen), name


def test_resnet_frozen_stages_and_norm_eval():
    model = _build(arch='TinyCLIP-RN-64', frozen_stages=1)
    frozen = _frozen_names(model)
    assert 'visual.bn1.weight' in frozen
    assert any(n.startswith('visual.layer1.') for n in frozen)
    assert not any(
        n.startswith(('visual.layer2.', 'visual.attnpool')) for n in frozen)
    model.train()
    assert not model.visual.bn1.training  # frozen stem stays in eval mode
    assert not model.visual.layer1[0].bn1.training
    assert model.visual.layer2[0].bn1.training
    model(torch.randn(2, 3, 64, 64)).sum().backward()
    assert model.visual.conv1.weight.grad is None
    assert model.visual.layer2[0].conv1.weight.grad is not None

    model = _build(arch='TinyCLIP-RN-64', norm_eval=True).train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, _BatchNorm))
    assert model.visual.layer2.training


def test_freeze_all_and_bad_stage():
    model = _build(freeze_all=True).train()
    assert len(_frozen_names(model)) == len(list(model.parameters()))
    assert not model.visual.training
    with pytest.raises(ValueError, match='frozen_stages'):
        _build(frozen_stages=5)  # 4 blocks: stages 0..4


def test_init_weights_keeps_loaded_weights(tmp_path):
    source = _build()
    path = str(tmp_path / 'clip.pth')
    # a full CLIP state dict, as open_clip saves it
    from m2df_mmaction.models.open_clip_utils import build_open_clip_model
    clip = build_open_clip_model('TinyCLIP-ViT-32')
    clip.visual.load_state_dict(source.visual.state_dict())
    torch.save(clip.state_dict(), path)

    model = _build(
        pretrained=path,
        init_cfg=dict(type='Constant', val=0.5, layer=['Conv2d', 'Linear']))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model.eval()(x), source.eval()(x))

    random_model = _build(
        init_cfg=dict(type='Constant', val=0.5, layer='Conv2d'))
    random_model.init_weights()  # without weights, init_cfg applies
    assert torch.all(random_model.visual.conv1.weight == 0.5)


def test_autocast_bfloat16_cpu():
    model = _build(frozen_stages=0).train()
    x = torch.randn(2, 3, 32, 32)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model(x)
    assert out.shape == (2, 64) and out.dtype == torch.bfloat16
    out.float().sum().backward()
    assert model.visual.proj.grad is not None
    assert model.visual.conv1.weight.grad is None


def test_device_and_dtype_follow_the_module():
    model = _build().to(torch.float64).eval()
    out = model(torch.randn(2, 3, 32, 32, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_in_stock_recognizer2d_with_tsn_head():
    from mmaction.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(
                type='OpenCLIPVisual', arch='TinyCLIP-ViT-32',
                frozen_stages=0),
            cls_head=dict(
                type='TSNHead',
                num_classes=5,
                in_channels=64,
                spatial_type=None,
                average_clips='prob'),
            data_preprocessor=dict(
                type='ActionDataPreprocessor',
                mean=[122.771, 116.746, 104.094],
                std=[68.500, 66.632, 70.323],
                format_shape='NCHW')))
    model.init_weights()
    num_videos, num_segs = 2, 3
    raw = dict(
        inputs=[
            torch.randint(0, 255, (num_segs, 3, 32, 32)).float()
            for _ in range(num_videos)
        ],
        data_samples=[
            ActionDataSample().set_gt_label(i) for i in range(num_videos)
        ])
    data = model.data_preprocessor(raw, training=True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    assert model.backbone.visual.conv1.weight.grad is None
    assert model.cls_head.fc_cls.weight.grad is not None

    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(raw), mode='predict')
    assert len(preds) == num_videos
    assert preds[0].pred_score.shape == (5, )


def _saved_bytes(model, x):
    """Bytes autograd keeps for the backward of ``model(x)`` (outside
    checkpointed segments, which keep only their inputs)."""
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    return out, sum(storages.values())


def _loss_and_grads(model, x, weight):
    out, saved = _saved_bytes(model, x)
    loss = (out * weight).sum() + out.pow(2).mean()
    loss.backward()
    grads = {
        n: p.grad.clone()
        for n, p in model.named_parameters() if p.grad is not None
    }
    return loss.detach(), grads, saved


@pytest.mark.parametrize('arch,size', [('TinyCLIP-ViT-32', 32),
                                       ('TinyCLIP-RN-64', 64)])
@pytest.mark.parametrize('frozen_stages', [-1, 1])
def test_with_cp_same_loss_and_gradients(arch, size, frozen_stages):
    torch.manual_seed(0)
    plain = _build(arch=arch, frozen_stages=frozen_stages).train()
    ckpt = _build(arch=arch, frozen_stages=frozen_stages, with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    ckpt.train()
    x = torch.randn(6, 3, size, size)
    weight = torch.randn(6, 64)

    loss, grads, saved = _loss_and_grads(plain, x, weight)
    loss_cp, grads_cp, saved_cp = _loss_and_grads(ckpt, x, weight)

    assert grads and sorted(grads) == sorted(grads_cp)
    assert torch.allclose(loss, loss_cp, rtol=0, atol=1e-6)
    max_diff = max((grads[n] - grads_cp[n]).abs().max().item() for n in grads)
    assert max_diff <= 1e-6, max_diff
    # checkpointing really happened: most activations were not kept
    assert saved_cp < saved / 2, (saved_cp, saved)
    # BatchNorm running statistics updated once, as without checkpointing
    for (name, buf), buf_cp in zip(plain.named_buffers(), ckpt.buffers()):
        assert torch.equal(buf, buf_cp), name


def test_with_cp_only_with_gradients():
    for arch, size in (('TinyCLIP-ViT-32', 32), ('TinyCLIP-RN-64', 64)):
        plain = _build(arch=arch).train()
        ckpt = _build(arch=arch, with_cp=True)
        ckpt.load_state_dict(plain.state_dict())
        ckpt.train()
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():  # no checkpointing, same output and buffers
            torch.testing.assert_close(ckpt(x), plain(x))
        for buf, buf_cp in zip(plain.buffers(), ckpt.buffers()):
            assert torch.equal(buf, buf_cp)
    frozen = _build(with_cp=True, freeze_all=True).train()
    assert not frozen(torch.randn(2, 3, 32, 32)).requires_grad
    assert not frozen.visual.transformer.grad_checkpointing
