# Copyright (c) m2df_mmaction contributors.
"""HyRSMHead, its HybridRelation layer and TemporalCoherenceLoss on random
episodes (the official numbers: tests/models/test_official_parity_hyrsm.py).
"""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.losses.temporal_coherence import \
    temporal_coherence_targets
from m2df_mmaction.testing import episode_data_samples, random_episode

DIM = 16
DATA = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
    'parity', 'alibaba')


def _head(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='HyRSMHead', embed_dims=DIM, num_classes=7, **kwargs))


@pytest.mark.parametrize('name,frames', [('hyrsmpp_1shot_eval', 8),
                                         ('hyrsmpp_1shot_T16_eval', 16)])
def test_temporal_targets_are_the_official_tables(name, frames):
    internals = torch.load(osp.join(DATA, f'{name}.pt'))['internals']
    targets, window = temporal_coherence_targets(frames, 1, 51.0)
    torch.testing.assert_close(targets, internals['temproal_regular'],
                               atol=1e-7, rtol=0)
    assert torch.equal(window, internals['temproal_regular_label'])


def test_temporal_coherence_value_by_hand():
    loss = MODELS.build(dict(type='TemporalCoherenceLoss', loss_weight=2.0))
    # identical frames: D = 0, so only the push term beta*(1-W)*R is left
    frames = torch.ones(3, 4, 5)
    targets, window = temporal_coherence_targets(4, 1, 51.0)
    expected = 2.0 * 10.0 * ((1 - window) * targets).mean()
    torch.testing.assert_close(loss(frames), expected)
    # two groups add their means (supports and queries)
    torch.testing.assert_close(loss(frames, frames[:1]), 2 * expected)
    # beta 0 or None is 1, as the official code without the key
    assert MODELS.build(dict(type='TemporalCoherenceLoss',
                             balance_coefficient=0)).balance_coefficient == 1
    # orthogonal neighbours (D = 1 inside the window) are penalised by R
    eye = torch.eye(4)[None]
    pull = (window * targets).mean()
    push = 10 * ((1 - window) * torch.relu(targets - 1)).mean()
    torch.testing.assert_close(
        MODELS.build(dict(type='TemporalCoherenceLoss', loss_weight=1.0))(
            eye), pull - (window * targets * torch.eye(4)).mean() + push)


def test_relation_is_per_query_and_checks_its_inputs():
    relation = MODELS.build(dict(type='HybridRelation', embed_dims=DIM))
    relation.eval()
    support, query = torch.randn(2, 3, 5, DIM), torch.randn(2, 4, 5, DIM)
    sup, qry = relation(support, query)
    assert sup.shape == (2, 4, 3, 5, DIM) and qry.shape == (2, 4, 5, DIM)
    # the supports seen by query 0 change with query 0 only
    other = query.clone()
    other[:, 0] += 1
    sup2, _ = relation(support, other)
    assert not torch.allclose(sup2[:, 0], sup[:, 0])
    torch.testing.assert_close(sup2[:, 1:], sup[:, 1:])
    with pytest.raises(ValueError, match='max_len'):
        relation(torch.randn(1, 3, 21, DIM), torch.randn(1, 1, 21, DIM))
    with pytest.raises(ValueError, match='num_heads'):
        MODELS.build(dict(type='HybridRelation', embed_dims=12))


def test_one_shot_and_prototype_modes():
    episode = random_episode(3, 1, 2, 5, DIM, num_classes=7, seed=2)
    per_support, prototypes = _head().eval(), _head(
        prototype_before_relation=True).eval()
    with torch.no_grad():
        a, b = per_support(episode), prototypes(episode)
    # at K = 1 the two official classes compute the same thing
    torch.testing.assert_close(a['logits'], b['logits'])
    # at K > 1: per-support distances are averaged over the shots
    episode = random_episode(3, 2, 2, 5, DIM, num_classes=7, seed=3)
    with torch.no_grad():
        out = per_support(episode)
    per_shot = per_support.bimhm(out['frame_distances'])
    assert out['frame_distances'].shape == (1, 6, 3, 2, 5, 5)
    torch.testing.assert_close(out['distances'], per_shot.mean(-1))
    torch.testing.assert_close(out['logits'], -out['distances'])
    with torch.no_grad():
        proto = prototypes(episode)
    assert proto['frame_distances'].shape == (1, 6, 3, 5, 5)
    assert not torch.allclose(proto['logits'], out['logits'])


def test_losses_and_their_checks():
    episode = random_episode(3, 2, 2, 5, DIM, num_classes=7, seed=4)
    head = _head(loss_temporal=dict(type='TemporalCoherenceLoss'))
    assert head.needs == {'frames', 'class_ids'}
    out = head.train()(episode)
    losses = head.loss_by_feat(out, episode)
    assert set(losses) == {'loss_cls', 'loss_frame_cls', 'loss_temporal',
                           'acc'}
    # the frame classifier is trained on every frame's video class id
    assert out['frame_logits'].shape == (1, 12, 5, 7)
    ids = torch.cat([episode.support_class_ids(),
                     episode.query_class_ids()], 1)
    expected = 0.6 * torch.nn.functional.cross_entropy(
        out['frame_logits'].flatten(0, 2),
        ids[..., None].expand(-1, -1, 5).flatten())
    torch.testing.assert_close(losses['loss_frame_cls'], expected)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert head.frame_classifier.weight.grad.abs().sum() > 0
    # a classifier smaller than the split's classes is refused by name
    with pytest.raises(ValueError, match='num_classes=7'):
        head.loss(episode.replace(num_classes=9))
    # eval-mode outputs carry no training-only inputs of the losses
    with torch.no_grad():
        eval_out = head.eval()(episode)
    with pytest.raises(ValueError, match='loss_frame_cls'):
        head.loss_by_feat(eval_out, episode)
    # HyRSM without the auxiliary classifier needs no class ids
    plain = _head(loss_frame_cls=None)
    assert plain.needs == {'frames'} and plain.frame_classifier is None
    assert set(plain.train().loss(episode.replace(class_ids=None))) == {
        'loss_cls', 'acc'}
    plain.eval().predict(episode, episode_data_samples(episode))


def test_matches_are_the_bimhm_minima():
    head = _head(prototype_before_relation=True).eval()
    episode = random_episode(3, 2, 1, 6, DIM, num_classes=7, seed=5)
    with torch.no_grad():
        out = head(episode)
    matches = head.explain(out)['bimhm']
    dists = out['frame_distances']
    # every query frame is matched to its closest prototype frame
    closest = dists.argmin(-1, keepdim=True)
    assert matches.path.gather(-1, closest).all()
    torch.testing.assert_close(
        (matches.soft * dists).sum((-1, -2)), out['distances'])
