# Copyright (c) m2df_mmaction contributors.
"""One training step of whole recognizers with a tiny CLIP."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

WAYS, SHOTS, QUERIES, FRAMES = 5, 1, 2, 4
NAMES = [f'class {i}' for i in range(8)]


def episode_batch(batch=1):
    videos = WAYS * (SHOTS + QUERIES)
    inputs = torch.randn(batch, videos, FRAMES, 3, 32, 32)
    samples = []
    for b in range(batch):
        sample = ActionDataSample()
        sample.set_gt_label(torch.arange(WAYS).repeat_interleave(QUERIES))
        ids = list(range(b, b + WAYS))
        sample.set_metainfo(
            dict(
                num_ways=WAYS,
                num_shots=SHOTS,
                num_queries=QUERIES,
                episode_idx=b,
                class_ids=ids,
                class_names=[NAMES[i] for i in ids],
                all_class_names=NAMES))
        samples.append(sample)
    return inputs, samples


def recognizer(head):
    return MODELS.build(
        dict(
            type='FewShotRecognizer',
            backbone=dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'),
            text_encoder=dict(type='OpenCLIPText', arch='TinyCLIP-ViT-32'),
            cls_head=head))


@pytest.mark.parametrize('head', [
    dict(type='M2DFHead',
         fusion=dict(type='CrossTransformerFusion', ffn_dims=64)),
    dict(type='M2DFHead', loss_video_text=dict(type='VideoTextLoss')),
    dict(type='CLIPFSARHead'),
    dict(type='OTAMHead', learnable_scale=True),
    dict(type='ProtoNetHead'),
])
def test_train_step_gradients(head):
    torch.manual_seed(0)
    model = recognizer(head)
    assert model.cls_head.__class__.__name__ == head['type']
    if 'embed_dims' in model.cls_head.__dict__:
        assert model.cls_head.embed_dims == 64  # filled in from the CLIP
    model.train()
    inputs, samples = episode_batch()
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    missing = [
        name for name, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum())
    ]
    assert not missing, f'no gradient reached {missing}'
    text_params = list(model.text_encoder.parameters())
    assert text_params
    assert all(not p.requires_grad and p.grad is None for p in text_params)


def test_predict_and_tensor_modes():
    model = recognizer(dict(type='M2DFHead')).eval()
    inputs, samples = episode_batch(batch=2)
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
        feats = model(inputs, mode='tensor')
    assert len(out) == 2
    assert out[0].pred_score.shape == (WAYS * QUERIES, WAYS)
    assert feats.shape == (2, WAYS * (SHOTS + QUERIES), FRAMES, 64)


def test_wrong_layout_is_reported():
    model = recognizer(dict(type='OTAMHead'))
    inputs, samples = episode_batch()
    with pytest.raises(ValueError, match='layout mismatch'):
        model.loss(inputs[:, :-1], samples)
    with pytest.raises(ValueError, match='expects episodes'):
        model.loss(inputs[0], samples)


def test_autocast_train_step():
    model = recognizer(dict(type='M2DFHead'))
    inputs, samples = episode_batch()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(inputs, samples)
    assert losses['loss_cls'].dtype == torch.float32
    sum(v for k, v in losses.items() if 'loss' in k).backward()


def test_both_encoders_share_one_clip_build(monkeypatch, tmp_path):
    """The weights are read (in init_weights) and a random init drawn once
    per model."""
    import open_clip
    from mmaction.registry import MODELS as REGISTRY

    from m2df_mmaction.models.open_clip_utils import build_open_clip_model
    calls = []
    create = open_clip.create_model
    monkeypatch.setattr(open_clip, 'create_model',
                        lambda *a, **k: calls.append(a[0]) or create(*a, **k))
    source = build_open_clip_model('TinyCLIP-ViT-32')
    path = str(tmp_path / 'tiny.pt')
    torch.save(source.state_dict(), path)
    calls.clear()
    clip = dict(arch='TinyCLIP-ViT-32', pretrained=path)
    model = REGISTRY.build(
        dict(
            type='FewShotRecognizer',
            backbone=dict(type='OpenCLIPVisual', **clip),
            text_encoder=dict(type='OpenCLIPText', **clip),
            cls_head=dict(type='OTAMHead')))
    assert calls == ['TinyCLIP-ViT-32']
    # the weights load in init_weights(), read once for both encoders
    assert not torch.equal(model.backbone.visual.proj, source.visual.proj)
    from m2df_mmaction.models.open_clip_utils import build as build_module
    reads = []
    load = build_module.load_open_clip_weights
    monkeypatch.setattr(build_module, 'load_open_clip_weights',
                        lambda *a, **k: reads.append(a[1]) or load(*a, **k))
    model.init_weights()
    assert reads == [path]
    torch.testing.assert_close(model.text_encoder.token_embedding.weight,
                               source.token_embedding.weight)
    torch.testing.assert_close(model.backbone.visual.proj, source.visual.proj)
    # outside a recognizer every encoder builds its own
    calls.clear()
    REGISTRY.build(dict(type='OpenCLIPVisual', **clip))
    REGISTRY.build(dict(type='OpenCLIPText', **clip))
    assert calls == ['TinyCLIP-ViT-32'] * 2
