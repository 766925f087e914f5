# Copyright (c) m2df_mmaction contributors.
"""MoLoHead: the head contract (it reads spatial maps and raw frames, which
``random_episode`` does not carry, so test_contract.py cannot run it),
its layers and losses, its bad inputs and its wiring in a recognizer.
The official numbers: tests/models/test_official_parity_molo.py."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from m2df_mmaction.models.layers import cos_sim, scaled_sine_table
from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.structures import HEAD_NEEDS, Episode
from m2df_mmaction.testing import episode_data_samples, random_episode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DIM, WAYS, SHOTS, QUERIES, FRAMES, MAP = 16, 3, 2, 2, 5, 2


def small_head(**overrides):
    cfg = dict(
        type='MoLoHead',
        embed_dims=DIM,
        num_classes=7,
        transformer=dict(type='CrossTransformerFusion', ffn_dims=32),
        decoder=dict(type='MoLoMotionDecoder', channels=(8, 4, 4)))
    cfg.update(overrides)
    return MODELS.build(cfg)


def molo_episode(batch=2, seed=1, size=MAP * 32) -> Episode:
    """A random episode with the spatial maps and raw frames MoLo reads."""
    episode = random_episode(WAYS, SHOTS, QUERIES, FRAMES, DIM,
                             num_classes=7, batch_size=batch, seed=seed)
    gen = torch.Generator().manual_seed(seed)

    def extra(videos):
        return dict(
            spatial=torch.randn(batch, videos, FRAMES, DIM, MAP, MAP,
                                generator=gen),
            raw_frames=torch.randn(batch, videos, FRAMES, 3, size, size,
                                   generator=gen))

    return episode.replace(support_extra=extra(WAYS * SHOTS),
                           query_extra=extra(WAYS * QUERIES))


def _alone(episode, b):
    """Episode ``b`` of a batch, by itself."""
    pick = {k: getattr(episode, k)[b:b + 1]
            for k in ('support', 'query', 'query_labels', 'class_ids',
                      'keys')}
    return episode.replace(
        support_extra={k: v[b:b + 1]
                       for k, v in episode.support_extra.items()},
        query_extra={k: v[b:b + 1] for k, v in episode.query_extra.items()},
        **pick)


def test_molo_head_keeps_the_contract():
    torch.manual_seed(0)
    head = small_head()
    # raw frames only in training: the reconstruction target
    assert head.needs == {'frames', 'spatial', 'raw_frames', 'class_ids'}
    assert not head.cacheable
    head.eval()
    assert head.needs == {'frames', 'spatial', 'class_ids'}
    assert set(head.needs) <= set(HEAD_NEEDS)
    assert head.cacheable  # evaluation reads no raw frames
    episode = molo_episode()
    with torch.no_grad():
        out = head(episode)
        single = head(_alone(episode, 1))
    queries = WAYS * QUERIES
    assert out['logits'].shape == (2, queries, WAYS)
    torch.testing.assert_close(single['logits'][0], out['logits'][1],
                               atol=1e-5, rtol=1e-5)
    assert 'motion_recons' not in out  # the decoder runs in training only
    assert out['class_logits'].shape == (2, WAYS * SHOTS + queries, 7)
    for key in ('logits_s2q', 'logits_q2s', 'logits_s2q_motion',
                'logits_q2s_motion'):
        assert out[key].shape == (2, queries, WAYS)
    # logits = -(appearance + 0.3 motion): the motion stream counts
    torch.testing.assert_close(
        out['logits'],
        -(out['distance_appearance'] + 0.3 * out['distance_motion']))
    # the two Bi-MHM views, T frames and T-1 motion frames
    assert set(head.match_views()) == {'appearance', 'motion'}
    distances = head.view_distances(out)
    for view, frames in (('appearance', FRAMES), ('motion', FRAMES - 1)):
        matches = head.explain(out)[view]
        assert matches.path.shape == (2, queries, WAYS, frames, frames)
        assert matches.path.dtype == torch.bool
        assert matches.path.any(-2).all() and matches.path.any(-1).all()
        assert distances[view].shape == (2, queries, WAYS)
    # training: every loss term, a gradient for every parameter
    head.train()
    out = head(episode)
    assert out['motion_recons'].shape == (2, WAYS * (SHOTS + QUERIES),
                                          FRAMES - 1, 3, 64, 64)
    losses = head.loss_by_feat(out, episode)
    assert set(losses) == {'loss_cls', 'loss_class', 'loss_contrastive',
                           'loss_contrastive_motion', 'loss_recons', 'acc'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(v for k, v in losses.items() if k.startswith('loss_')).backward()
    missing = [n for n, p in head.named_parameters()
               if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert missing == []
    samples = head.eval().predict(episode, episode_data_samples(episode))
    assert samples[0].pred_score.shape == (queries, WAYS)
    with pytest.raises(ValueError, match='needs `class_ids`'):
        head(episode.replace(class_ids=None))


def test_molo_head_without_auxiliary_losses_is_cacheable():
    head = small_head(loss_class=None, loss_recons=None,
                      loss_contrastive=None)
    assert head.needs == {'frames', 'spatial'} and head.cacheable
    names = [n for n, _ in head.named_parameters()]
    assert not any(n.startswith(('decoder', 'classifier', 'loss_'))
                   for n in names)
    episode = molo_episode()
    episode = episode.replace(
        class_ids=None,
        support_extra=dict(spatial=episode.support_extra['spatial']),
        query_extra=dict(spatial=episode.query_extra['spatial']))
    losses = head.train().loss(episode)
    assert set(losses) == {'loss_cls', 'acc'}


def test_molo_head_refuses_bad_inputs():
    head = small_head().train()
    episode = molo_episode()
    wide = episode.replace(support_extra=dict(
        episode.support_extra,
        spatial=torch.zeros(2, WAYS * SHOTS, FRAMES, DIM + 1, MAP, MAP)))
    with pytest.raises(ValueError, match=r'C=16, h, w\] \(embed_dims\).*'
                       'set cls_head.embed_dims'):
        head(wide)
    with pytest.raises(ValueError, match=r'upsamples the \(2, 2\) maps by 32 '
                       r'to \(64, 64\), and the frames are \(32, 32\)'):
        head(molo_episode(size=32))
    with pytest.raises(ValueError, match='num_classes=9'):
        head.loss(episode.replace(num_classes=9))
    outputs = head.eval()(episode)
    with pytest.raises(ValueError, match='loss_recons needs'):
        head.loss_by_feat(outputs, episode)


def test_positional_table_is_the_official_one():
    official = torch.load(osp.join(ROOT, 'tests', 'data', 'parity', 'alibaba',
                                   'molo_state_dict.pt'))['tensors']['pe.pe']
    ours = scaled_sine_table(20, 512)
    assert (ours - official).abs().max() <= 1e-6
    # not the Transformer sinusoid (pe[pos, 1] = cos(pos / 10000^(2/D)))
    assert torch.allclose(ours[0, :, 1],
                          torch.cos(torch.arange(20) / 10000**(2 / 512)))
    pe = MODELS.build(dict(type='ScaledPositionalEncoding', embed_dims=8,
                           a_scale=2.0, b_scale=0.5, max_len=4, dropout=0))
    x = torch.randn(3, 4, 8)
    torch.testing.assert_close(pe(x), x * 2 + 0.5 * pe.pe[0])
    with pytest.raises(ValueError, match='raise max_len'):
        pe(torch.zeros(1, 5, 8))


def test_motion_is_the_next_convolved_frame_minus_the_current():
    torch.manual_seed(0)
    motion = MODELS.build(dict(type='MoLoMotionEncoder', in_channels=16))
    assert motion.motion_channels == 2  # D // 8
    maps = torch.randn(2, 4, 16, 3, 3)
    out = motion(maps)
    reduced = torch.stack([
        motion.reduce(maps[v].transpose(0, 1)).transpose(0, 1)
        for v in range(2)
    ])
    for t in range(3):
        torch.testing.assert_close(
            out[:, t], motion.conv(reduced[:, t + 1]) - reduced[:, t])
    feats = motion.embed(out)
    assert feats.shape == (2, 3, 16) and (feats >= 0).all()
    with pytest.raises(ValueError, match='at least 2 frames'):
        motion(maps[:, :1])


def test_decoder_and_reconstruction_loss():
    decoder = MODELS.build(
        dict(type='MoLoMotionDecoder', in_channels=2, channels=(4, 4, 4)))
    assert decoder.upscale == 32
    assert decoder(torch.randn(6, 2, 1, 2)).shape == (6, 3, 32, 64)
    loss = MODELS.build(dict(type='MotionReconstructionLoss',
                             loss_weight=0.4))
    frames = torch.randn(2, 4, 3, 8, 8)
    recons = torch.randn(2, 3, 3, 8, 8)
    expected = ((recons - frames.diff(dim=1))**2).mean() * 0.4
    torch.testing.assert_close(loss(recons, frames), expected)
    with pytest.raises(ValueError, match=r'must be \[V, T-1, 3, H, W\]'):
        loss(recons[..., :4], frames)


def test_long_short_logits_match_their_definition():
    loss = MODELS.build(dict(type='LongShortContrastiveLoss'))
    qf, qg = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 8)
    pf, pg = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 8)
    s2q, q2s = loss.logits(qf, qg, pf, pg)
    for b in range(2):
        for q in range(4):
            for c in range(3):
                torch.testing.assert_close(
                    s2q[b, q, c], -(1 - cos_sim(pf[b, c], qg[b, q, None]))
                    .sum())
                torch.testing.assert_close(
                    q2s[b, q, c], -(1 - cos_sim(qf[b, q], pg[b, c, None]))
                    .sum())
    labels = torch.tensor([[0, 1, 2, 0], [2, 1, 0, 1]])
    expected = 0.05 * (F.cross_entropy(s2q.flatten(0, 1), labels.flatten()) +
                       F.cross_entropy(q2s.flatten(0, 1), labels.flatten()))
    torch.testing.assert_close(loss(s2q, q2s, labels), expected)
    assert loss.scale.requires_grad  # learnable, as without TEMP_COFF


def test_recognizer_refuses_molo_on_an_encoder_without_spatial_maps():
    cfg = dict(
        type='FewShotRecognizer',
        backbone=dict(type='MobileNetV2', widen_factor=0.25),
        cls_head=dict(type='MoLoHead'))
    # MobileNetV2 tells no width either: that is refused first
    with pytest.raises(ValueError, match='set cls_head.embed_dims'):
        MODELS.build(cfg)
    cfg['cls_head']['embed_dims'] = 1280
    with pytest.raises(ValueError, match=r"MoLoHead needs \['spatial'\] "
                       '.*MobileNetV2 cannot provide') as error:
        MODELS.build(cfg)
    print(f'refusal: {error.value}')  # for the closing note (pytest -s)


def test_molo_in_a_recognizer_trains_from_frames():
    """Tiny CLIP ViT-32 (patch 8) on 32 px frames: 4x4 spatial maps,
    decoded x8 (not MoLo's x32 of 7x7 maps) back to 32 px; spatial maps,
    raw frames and class ids all wired."""
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='FewShotRecognizer',
            backbone=dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'),
            cls_head=dict(
                type='MoLoHead', num_classes=8,
                transformer=dict(type='CrossTransformerFusion',
                                 ffn_dims=64),
                decoder=dict(type='MoLoMotionDecoder',
                             scale_factors=(2, 2, 2)))))
    assert model.cls_head.embed_dims == 64  # filled in from the encoder
    inputs = torch.randn(1, WAYS * (1 + 1), 4, 3, 32, 32)
    sample = ActionDataSample()
    sample.set_gt_label(torch.arange(WAYS))
    sample.set_metainfo(
        dict(num_ways=WAYS, num_shots=1, num_queries=1, episode_idx=0,
             class_ids=[1, 4, 6], all_class_names=[f'c{i}' for i in range(8)]))
    losses = model.train().loss(inputs, [sample])
    assert {'loss_class', 'loss_recons'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss_')).backward()
    assert model.cls_head.decoder.out_conv.weight.grad.any()
    assert model.cls_head.classifier.weight.grad[[1, 4, 6]].any()


def test_official_backbone_keys_load_into_mmaction_resnet():
    """The official ResNet (torchvision, without avgpool/fc) and MMAction2's
    ResNet give the same layer4 map with the converted weights."""
    torch.manual_seed(0)
    tv = torchvision.models.resnet18()
    official = torch.nn.Sequential(*list(tv.children())[:-2]).eval()
    state = {f'backbone.{k}': v for k, v in official.state_dict().items()}
    converted, dropped = convert_official_state_dict(state, 'molo')
    assert dropped == []
    ours = MODELS.build(dict(type='mmaction.ResNet', depth=18,
                             pretrained=None))
    ours.eval()  # (its train() returns None)
    ours.load_state_dict(
        {k[len('backbone.'):]: v for k, v in converted.items()})
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), official(x))
    with pytest.raises(ValueError, match='not keys of the official MoLo'):
        convert_official_state_dict({'context2.x': torch.zeros(1)}, 'molo')
