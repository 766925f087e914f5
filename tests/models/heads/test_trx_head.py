# Copyright (c) m2df_mmaction contributors.
"""TRXHead: logits from the cardinalities, explanations, bad settings."""
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.testing import random_episode

SMALL = dict(type='TemporalCrossTransformer', out_dims=16)


def _head(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='TRXHead', embed_dims=8, num_frames=6, transformer=SMALL)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_logits_are_minus_the_mean_distance_over_cardinalities():
    head = _head(cardinalities=(1, 2, 4)).eval()
    episode = random_episode(4, 2, 3, 6, 8, batch_size=2, seed=3)
    with torch.no_grad():
        out = head(episode)
    stacked = torch.stack([out[f'distance_{s}'] for s in (1, 2, 4)], -1)
    torch.testing.assert_close(out['logits'], -stacked.mean(-1))
    # C(6, 1), C(6, 2), C(6, 4) tuples; K = 2 shots per class
    for size, tuples in ((1, 6), (2, 15), (4, 15)):
        shape = out[f'tuple_attention_{size}'].shape
        assert shape == (2, 12, 4, tuples, 2 * tuples)
        assert out[f'frame_attention_{size}'].shape == (2, 12, 4, 6, 6)
    assert set(head.explain(out)) == {'tuples1', 'tuples2', 'tuples4'}
    assert head.needs == {'frames'} and head.cacheable
    assert not head.log_scale.requires_grad  # no logit scale, as TRX


def test_defaults_are_the_official_values():
    head = MODELS.build(dict(type='TRXHead', embed_dims=8))
    assert head.cardinalities == (2, 3) and head.num_frames == 8
    pairs, triples = head.transformers
    assert (pairs.num_tuples, triples.num_tuples) == (28, 56)
    assert pairs.k_linear.out_features == 1152
    assert pairs.pe.shape == (12, 8)  # int(1.5 * 8)
    torch.testing.assert_close(pairs.pe.abs().max(), torch.tensor(0.1))
    assert pairs.dropout.p == 0.1
    assert not hasattr(pairs, 'norm_v')


def test_trains():
    head = _head().train()
    episode = random_episode(3, 1, 2, 6, 8, seed=1)
    losses = head.loss(episode)
    losses['loss_cls'].backward()
    assert head.transformers[1].k_linear.weight.grad.abs().sum() > 0


def test_bad_cardinalities_are_refused():
    with pytest.raises(ValueError, match=r'cardinalities \[7\] are larger '
                       r'than num_frames=6 \(T\)'):
        _head(cardinalities=(2, 7))
    with pytest.raises(ValueError, match='each once'):
        _head(cardinalities=(2, 2))
    with pytest.raises(ValueError, match='at least one'):
        _head(cardinalities=())


def test_recognizer_refuses_a_cardinality_larger_than_T_when_built():
    cfg = dict(
        type='FewShotRecognizer',
        backbone=dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'),
        cls_head=dict(type='TRXHead', num_frames=4, cardinalities=(2, 5)))
    with pytest.raises(ValueError, match=r'TRXHead: cardinalities \[5\] '
                       'are larger than num_frames=4'):
        MODELS.build(cfg)
    cfg['cls_head'].update(cardinalities=(2, 3))
    model = MODELS.build(cfg)
    assert model.cls_head.transformers[0].embed_dims == 64  # from encoder
