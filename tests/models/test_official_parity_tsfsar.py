# Copyright (c) m2df_mmaction contributors.
"""OpenCLIPSide + TSFSARHead reproduce the official TS-FSAR model.

``tests/data/parity/tsfsar`` holds what the public official model
(yaozhang0417/TS-FSAR ``1a91053``, ``trainers/ts_fsar.py`` ``TS_FSAR`` and
``trainers/model.py`` ``LSN`` on a HuggingFace
``CLIPVisionModelWithProjection``)
computed with tiny random weights (width 64, 3 blocks, one head, patch 16 on
48 px: 9 patches, 8 frames; a 64-wide side network; README there). The
official state dict goes through :func:`convert_official_state_dict`
(``'tsfsar'``, HuggingFace keys) into an :class:`OpenCLIPSide` of the same
open_clip architecture (``TSFSAR-Parity-ViT.json``) and a
:class:`TSFSARHead`.
"""
import os.path as osp

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from m2df_mmaction.models.backbones import FrameFeatureRequest
from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.models.open_clip_utils import register_open_clip_configs
from m2df_mmaction.structures import Episode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(ROOT, 'tests', 'data', 'parity', 'tsfsar')
TOL = 1e-5  # the goal
T = 8


def _settings():
    return torch.load(osp.join(DATA, 'tsfsar_init.pt'))['settings']


def build_model(case, load=True):
    """Encoder and head of the recorded settings (official weights in)."""
    register_open_clip_configs(DATA)
    lsn = _settings()
    w = case['weights']
    encoder = MODELS.build(
        dict(
            type='OpenCLIPSide',
            arch='TSFSAR-Parity-ViT',
            num_frames=T,
            side=dict(
                type='LadderSideNetwork',
                embed_dims=lsn['OUTPUT_DIM'],
                temporal_layers=tuple(lsn['TEMP_LAYERS']),
                gate_init=lsn['GATE_ALPHA'],
                gate_temperature=lsn['GATE_T']),
            quick_gelu=True))
    head = MODELS.build(
        dict(
            type='TSFSARHead',
            embed_dims=encoder.embed_dims,
            side_dims=encoder.side_dims,
            num_frames=T,
            num_classes=10,
            dc_alpha=w['dc_alpha'],
            res_alpha=w['res_alpha'],
            temp_clip=w['temp_clip'],
            temp_side=w['temp_side'],
            loss_cls=dict(type='CrossEntropyLoss', loss_weight=w['vis']),
            loss_side_cls=dict(type='CrossEntropyLoss', loss_weight=w['cls']),
            loss_clip_text=dict(type='CrossEntropyLoss', loss_weight=w['kd']),
            loss_side_text=dict(
                type='CrossEntropyLoss', loss_weight=w['side_cls']),
            loss_kd=dict(
                type='DistillKLLoss',
                temperature=w['kd_t'],
                loss_weight=w['kd']),
            fuse=case['fuse']))
    if not load:
        return encoder, head
    state = torch.load(osp.join(DATA, 'tsfsar_state_dict.pt'))['state_dict']
    converted, dropped = convert_official_state_dict(
        {k: v.float() for k, v in state.items()}, 'tsfsar')
    assert dropped == []
    missing = []
    for prefix, module in (('backbone.', encoder), ('cls_head.', head)):
        part = {
            k[len(prefix):]: v
            for k, v in converted.items() if k.startswith(prefix)
        }
        result = module.load_state_dict(part, strict=False)
        assert result.unexpected_keys == []
        missing += [prefix + k for k in result.missing_keys]
    assert missing == ['cls_head.log_scale']  # the official has none
    return encoder, head


def _close(ours, official, what, tol=TOL):
    diff = (ours.detach().double() - official.double()).abs().max().item()
    print(f'parity {what}: {diff:.2g}')  # figures: pytest -s -k parity
    assert diff <= tol, f'{what}: max abs difference {diff:.3g}'
    return diff


def _episode(case, encoder, class_text):
    images = torch.load(osp.join(DATA, 'tsfsar_state_dict.pt'))['images']
    way, shot, qpc = case['way'], case['shot'], case['query_per_class']
    videos = way * shot + way * qpc
    feats = encoder.forward_frame_features(
        images[:videos * T].float(), FrameFeatureRequest(layers=(-1, )))
    frames = feats.pooled.unflatten(0, (-1, T))
    tokens = feats.tokens[-1].unflatten(0, (-1, T))
    ns = way * shot
    assert torch.equal(case['context_labels'],
                       torch.arange(way).repeat_interleave(shot))
    real = case['real_labels']
    return Episode(
        num_ways=way,
        num_shots=shot,
        support=frames[None, :ns],
        query=frames[None, ns:],
        query_labels=case['target_labels'][None],
        class_ids=real[:ns:shot][None],
        num_classes=10,
        text=class_text[None] if not case['train'] else None,
        class_text=class_text if case['train'] else None,
        support_extra={'tokens/-1': tokens[None, :ns]},
        query_extra={'tokens/-1': tokens[None, ns:]})


def test_tsfsar_training_matches_official():
    torch.manual_seed(0)
    case = torch.load(osp.join(DATA, 'tsfsar_1shot_train.pt'))
    encoder, head = build_model(case)
    encoder.train()
    head.train()
    episode = _episode(case, encoder, case['class_embeddings'])
    outputs = head(episode)
    _close(outputs['logits'][0], case['score'], 'train vision logits')
    _close(outputs['video_logits'][0], case['logits_side_cls'],
           'train classifier logits')
    _close(outputs['clip_text_logits'][0], case['logits_clip_text'],
           'train CLIP-text logits')
    _close(outputs['side_text_logits'][0], case['logits_side_text'],
           'train side-text logits')
    losses = head.loss_by_feat(outputs, episode)
    w = case['weights']
    _close(losses['loss_cls'] / w['vis'], case['loss_vision'], 'loss vision')
    _close(losses['loss_side_cls'] / w['cls'], case['loss_side_cls'],
           'loss side cls')
    _close(losses['loss_clip_text'] / w['kd'], case['loss_clip_text'],
           'loss clip text')
    _close(losses['loss_side_text'] / w['side_cls'], case['loss_side_text'],
           'loss side text')
    _close(losses['loss_kd'] / w['kd'], case['loss_kd'], 'loss KD')
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    _close(total, case['loss'], 'loss total')
    total.backward()
    ours = {f'backbone.{n}': p for n, p in encoder.named_parameters()}
    ours.update({f'cls_head.{n}': p for n, p in head.named_parameters()})
    grads, _ = convert_official_state_dict(case['grads'], 'tsfsar')
    # exactly the official optimizer's parameters have gradients
    trainable = {n for n, p in ours.items() if p.requires_grad}
    assert trainable - {'cls_head.log_scale'} == set(grads)
    worst = 0.0
    for name, grad in grads.items():
        scale = max(grad.abs().max().item(), 1.0)
        worst = max(worst, _close(ours[name].grad / scale, grad / scale,
                                  f'grad {name}'))
    print(f'parity grads worst (relative to max(|g|, 1)): {worst:.2g}')
    assert not any(p.grad is not None for n, p in ours.items()
                   if n.startswith('backbone.visual.'))


def test_tsfsar_evaluation_matches_official():
    case = torch.load(osp.join(DATA, 'tsfsar_2shot_eval.pt'))
    encoder, head = build_model(case)
    encoder.eval()
    head.eval()
    with torch.no_grad():
        outputs = head(_episode(case, encoder, case['class_embeddings']))
    _close(outputs['vision_logits'][0], case['score'], 'eval vision logits')
    # the official test loss: NLL of the (unnormalised) fused product
    fused = outputs['logits'][0].exp()
    labels = case['target_labels']
    official_nll = F.nll_loss(torch.log(fused + 1e-8), labels)
    _close(official_nll, case['loss'], 'eval fused NLL')
    images = torch.load(osp.join(DATA, 'tsfsar_state_dict.pt'))['images']
    with torch.no_grad():  # the official adapts the queries' frames only
        adapted = head.clip_adapter(
            encoder(images[6 * T:9 * T].float()).unflatten(0, (-1, T)))
    _close(adapted, case['adapter_out'], 'eval CLIP adapter')


def test_tsfsar_pca_init_matches_official():
    """The side blocks and the CLIP adapter start from the frozen CLIP as
    the official ``prune_and_initialize`` makes them (exact SVD; the
    official scikit-learn 1.3 PCA is exact too at these sizes)."""
    case = torch.load(osp.join(DATA, 'tsfsar_2shot_eval.pt'))
    init = torch.load(osp.join(DATA, 'tsfsar_init.pt'))
    encoder, head = build_model(case, load=False)
    state = torch.load(osp.join(DATA, 'tsfsar_state_dict.pt'))['state_dict']
    converted, _ = convert_official_state_dict(
        {k: v.float() for k, v in state.items() if k.startswith(
            ('model.embeddings', 'model.pre_layernorm', 'model.layers',
             'model.post_layernorm', 'model.projection'))}, 'tsfsar')
    encoder.load_state_dict(
        {k[len('backbone.'):]: v for k, v in converted.items()},
        strict=False)
    encoder.side.init_from_tower(encoder.visual.transformer.resblocks)
    head.init_from_encoder(encoder)
    official, _ = convert_official_state_dict(init['init_state_dict'],
                                              'tsfsar')
    ours = {f'backbone.{k}': v for k, v in encoder.state_dict().items()}
    ours.update({f'cls_head.{k}': v for k, v in head.state_dict().items()})
    pca = [k for k in official
           if k.startswith(('backbone.side.blocks.', 'cls_head.clip_adapter'
                            '.attn.'))]
    assert len(pca) == 3 * 16 + 8  # per block: 2 norms, q/k/v/proj, fc1/fc2
    for key in pca:
        scale = max(official[key].abs().max().item(), 1.0)
        # float64 SVD here vs the official float32 LAPACK one
        _close(ours[key] / scale, official[key] / scale, f'init {key}',
               tol=5e-5)
