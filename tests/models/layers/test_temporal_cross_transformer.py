# Copyright (c) m2df_mmaction contributors.
"""TRX's temporal cross transformer: tuples, attention, distances, frame
pairs."""
import math
from itertools import combinations

import pytest
import torch

from m2df_mmaction.models.layers import (TemporalCrossTransformer,
                                         sinusoid_table)


def _layer(**kwargs):
    torch.manual_seed(0)
    cfg = dict(embed_dims=6, num_frames=5, cardinality=2, out_dims=8,
               dropout=0.0)
    cfg.update(kwargs)
    return TemporalCrossTransformer(**cfg).double()


def _reference(layer, support, query, ways):
    """TRX by the paper, one query and one class at a time."""
    shots = support.shape[0] // ways
    dists = torch.zeros(query.shape[0], ways, dtype=torch.float64)
    pe = layer.pe[:layer.num_frames]
    tuples = list(combinations(range(layer.num_frames), layer.cardinality))

    def maps(video):
        video = video + pe
        cat = torch.stack([torch.cat([video[t] for t in tup])
                           for tup in tuples])
        return layer.norm_k(layer.k_linear(cat)), layer.v_linear(cat)

    for m, video in enumerate(query):
        q_k, q_v = maps(video)
        for c in range(ways):
            ks, vs = zip(*[maps(support[c * shots + k])
                           for k in range(shots)])
            k_all, v_all = torch.cat(ks), torch.cat(vs)  # all shots jointly
            attn = (q_k @ k_all.T / math.sqrt(layer.out_dims)).softmax(-1)
            dists[m, c] = ((q_v - attn @ v_all)**2).sum() / len(tuples)
    return dists


def test_tuples_and_positional_table_come_from_the_options():
    layer = _layer(num_frames=5, cardinality=3)
    assert layer.tuples.tolist() == [
        list(t) for t in combinations(range(5), 3)]
    assert layer.num_tuples == 10
    assert layer.pe.shape == (7, 6)  # int(1.5 * 5) rows
    # neither is stored: they follow the options, not a checkpoint
    assert not any('pe' in k or 'tuples' in k for k in layer.state_dict())
    assert _layer(pe_length=9).pe.shape == (9, 6)
    table = sinusoid_table(4, 6, scale=1.0)
    assert torch.allclose(table[1, 0], torch.tensor(math.sin(1.0)))
    assert torch.allclose(table[2, 3], torch.tensor(
        math.cos(2 * math.exp(-2 * math.log(1e4) / 6))))
    torch.testing.assert_close(sinusoid_table(4, 6, scale=0.1),
                               table * 0.1)


@pytest.mark.parametrize('shots', [1, 3])
def test_distances_match_the_per_class_loop(shots):
    layer = _layer()
    ways = 3
    support = torch.randn(ways * shots, 5, 6, dtype=torch.float64)
    query = torch.randn(4, 5, 6, dtype=torch.float64)
    out = layer(support[None], query[None], ways)
    expected = _reference(layer, support, query, ways)
    torch.testing.assert_close(out['distances'][0].double(), expected)
    assert out['attention'].shape == (1, 4, ways, 10, shots * 10)
    torch.testing.assert_close(out['attention'].sum(-1),
                               torch.ones(1, 4, ways, 10).to(
                                   out['attention']))
    if shots > 1:  # one softmax over all shots, not one per shot
        per_shot = out['attention'].unflatten(-1, (shots, 10)).sum(-1)
        assert not torch.allclose(per_shot, torch.ones_like(per_shot))


def test_frame_attention_of_an_exact_match_is_the_diagonal():
    layer = _layer(num_frames=4, cardinality=3)
    num_tuples = layer.num_tuples
    # every query tuple attends only to the same tuple of the second shot
    attention = torch.zeros(1, 1, 1, num_tuples, 2 * num_tuples,
                            dtype=torch.float64)
    attention[..., range(num_tuples),
              [num_tuples + p for p in range(num_tuples)]] = 1
    pairs = layer.frame_attention(attention)
    torch.testing.assert_close(pairs[0, 0, 0],
                               torch.eye(4, dtype=torch.float64))
    matches = layer.explain(pairs)
    assert torch.equal(matches.path[0, 0, 0], torch.eye(4, dtype=bool))
    # pairs attending to the pair one frame later: frame i -> i + 1
    layer = _layer(num_frames=3, cardinality=2)  # (0,1) (0,2) (1,2)
    attention = torch.zeros(1, 1, 1, 3, 3, dtype=torch.float64)
    attention[..., 0, 2] = 1  # (0, 1) -> (1, 2)
    attention[..., 1, 1] = 1  # (0, 2) -> (0, 2)
    attention[..., 2, 2] = 1  # (1, 2) -> (1, 2)
    expected = torch.tensor([[1, 1, 0], [0, 1, 1], [0, 0, 2]],
                            dtype=torch.float64) / 2
    torch.testing.assert_close(layer.frame_attention(attention)[0, 0, 0],
                               expected)


def test_frame_attention_rows_are_distributions():
    layer = _layer(num_frames=6, cardinality=3)
    attention = torch.rand(2, 3, 4, 20, 40).softmax(-1)
    pairs = layer.frame_attention(attention)
    assert pairs.shape == (2, 3, 4, 6, 6)
    torch.testing.assert_close(pairs.sum(-1), torch.ones(2, 3, 4, 6))
    matches = layer.explain(pairs)
    assert matches.path.any(-1).all() and matches.path.any(-2).all()


def test_runs_in_float32_under_autocast():
    layer = _layer().float()
    support = torch.randn(2, 6, 5, 6)
    query = torch.randn(2, 3, 5, 6)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = layer(support, query, 3)
    assert out['distances'].dtype == torch.float32
    assert torch.isfinite(out['distances']).all()


def test_bad_settings_and_inputs_are_refused():
    with pytest.raises(ValueError, match=r'cardinality 6 does not fit '
                       r'num_frames=5 \(T\).*`cardinalities`'):
        _layer(cardinality=6)
    with pytest.raises(ValueError, match='cardinality 0'):
        _layer(cardinality=0)
    with pytest.raises(ValueError, match='pe_length=4 is shorter'):
        _layer(pe_length=4)
    with pytest.raises(ValueError, match='built for num_frames=5 and got '
                       'videos of 8 frames'):
        _layer()(torch.randn(1, 3, 8, 6), torch.randn(1, 2, 8, 6), 3)
