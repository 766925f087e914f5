# Copyright (c) m2df_mmaction contributors.
"""OpenCLIPAdapted + D2STHead reproduce the official D2ST-Adapter ViT.

``tests/data/parity/d2st`` holds what the public official model
(qizhongtan/D2ST-Adapter ``44387fa``, ``models/base/adapter.py``
``ViT_CLIP`` with ``ViT_D2ST_Adapter`` in every block; loss of
``runs/train_net_few_shot.py`` L62-64) computed with tiny random weights
(width 64, 2 blocks, 4 heads, patch 4 on 64 px: a 16x16 grid, 8 frames;
README there). The official state dict goes through
:func:`convert_official_state_dict` (``'d2st'``) into an
:class:`OpenCLIPAdapted` encoder of the same open_clip architecture
(``D2ST-Parity-ViT.json`` there) and a :class:`D2STHead`.
"""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.models.open_clip_utils import register_open_clip_configs
from m2df_mmaction.structures import Episode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(ROOT, 'tests', 'data', 'parity', 'd2st')
TOL = 1e-5  # the goal
CASES = ('d2st_vit_1shot_train', 'd2st_vit_2shot_eval')


def build_model(settings):
    """Encoder and head of the recorded settings, official weights in."""
    register_open_clip_configs(DATA)
    encoder = MODELS.build(
        dict(
            type='OpenCLIPAdapted',
            arch='D2ST-Parity-ViT',
            num_frames=settings['NUM_INPUT_FRAMES'],
            adapter=dict(
                type='D2STAdapter', scale=settings['ADAPTER_SCALE']),
            temporal_embedding=True,
            trainable=('class_embedding', 'ln_post'),
            project=False,
            quick_gelu=True))
    head = MODELS.build(
        dict(
            type='D2STHead',
            embed_dims=encoder.embed_dims,
            num_classes=settings['NUM_CLASS'],
            loss_video_cls=dict(
                type='CrossEntropyLoss',
                loss_weight=settings['USE_CLASSIFICATION_VALUE'])))
    state = torch.load(osp.join(DATA, 'd2st_vit_state_dict.pt'))
    converted, dropped = convert_official_state_dict(state, 'd2st')
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
    # not in the official model: CLIP's projection (deleted there, unused
    # with project=False) and the fixed logit scale (the activation flag is
    # filled in by the encoder's load hook)
    assert sorted(missing) == ['backbone.visual.proj', 'cls_head.log_scale']
    return encoder, head


def _close(ours, official, what, tol=TOL):
    diff = (ours.detach().double() - official.double()).abs().max().item()
    print(f'parity {what}: {diff:.2g}')  # figures: pytest -s -k parity
    assert diff <= tol, f'{what}: max abs difference {diff:.3g}'
    return diff


@pytest.mark.parametrize('name', CASES)
def test_d2st_matches_official(name):
    torch.manual_seed(0)
    case = torch.load(osp.join(DATA, f'{name}.pt'))
    encoder, head = build_model(case['settings'])
    encoder.train(case['train'])
    head.train(case['train'])
    t = case['settings']['NUM_INPUT_FRAMES']
    support = encoder(case['support_set'].float()).unflatten(0, (-1, t))
    query = encoder(case['target_set'].float()).unflatten(0, (-1, t))
    check_case(name, case, encoder, head, support, query)


def check_case(name, case, encoder, head, support, query):
    """The head on the encoded supports ``[V_s, T, D]`` and queries
    ``[V_q, T, D]`` against a recorded case: logits, each loss term and,
    for a training case, every official trainable parameter's gradient
    (and no other parameter trains). Shared with the ResNet variant."""
    settings = case['settings']
    way, shot = case['way'], case['shot']
    # the recorded supports are way-major (labels 0,0,1,1,...): as ours
    assert torch.equal(case['support_labels'].long(),
                       torch.arange(way).repeat_interleave(shot))
    class_ids = case['real_support_labels'][::shot].long()
    episode = Episode(
        num_ways=way,
        num_shots=shot,
        support=support[None],
        query=query[None],
        query_labels=case['target_labels'].long()[None],
        class_ids=class_ids[None],
        num_classes=settings['NUM_CLASS'])
    outputs = head(episode)
    _close(outputs['logits'][0], case['logits'], f'{name} logits')
    if not case['train']:  # the training-only video classifier is not run
        labels = case['target_labels'].long()
        _close(head.loss_cls(outputs['logits'][0], labels), case['loss_ce'],
               f'{name} CE')
        return
    losses = head.loss_by_feat(outputs, episode)
    _close(losses['loss_cls'], case['loss_ce'], f'{name} CE')
    _close(outputs['video_logits'][0], case['class_logits'],
           f'{name} class logits')
    weight = settings['USE_CLASSIFICATION_VALUE']
    _close(losses['loss_video_cls'] / weight, case['loss_class'],
           f'{name} class CE')
    total = (losses['loss_cls'] + losses['loss_video_cls']) / \
        settings['BATCH_SIZE']
    _close(total, case['loss_total'], f'{name} total')
    total.backward()
    # every official trainable parameter, by its converted name
    grads, _ = convert_official_state_dict(case['grads'], 'd2st')
    ours = dict(encoder.named_parameters(prefix='backbone'))
    ours.update(head.named_parameters(prefix='cls_head'))
    trainable = sorted(n for n, p in ours.items() if p.requires_grad)
    expected, _ = convert_official_state_dict(
        {n: torch.zeros(1) for n in case['trainable']}, 'd2st')
    assert trainable == sorted(expected)
    worst = max(
        _close(ours[k].grad, g, f'{name} grad {k}', tol=TOL)
        for k, g in grads.items())
    print(f'parity {name} gradients (max over {len(grads)}): {worst:.2g}')
