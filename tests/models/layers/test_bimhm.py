# Copyright (c) m2df_mmaction contributors.
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.layers import bimhm_distance


def test_bimhm_is_the_sum_of_both_directions_of_minima():
    dists = torch.tensor([[0.1, 0.9, 0.5],
                          [0.8, 0.2, 0.7]])  # 2 query x 3 support frames
    # query rows: 0.1 + 0.2; support columns: 0.1 + 0.2 + 0.5
    assert torch.isclose(bimhm_distance(dists), torch.tensor(1.1))
    # the order of the frames does not matter (a set metric)
    assert torch.isclose(bimhm_distance(dists.flip(-1).flip(-2)),
                         torch.tensor(1.1))


def test_bimhm_explains_the_pairs_it_used():
    layer = MODELS.build(dict(type='BiMHM'))
    dists = torch.rand(2, 3, 4, 5, 6, requires_grad=True)
    matches = layer.explain(dists)
    assert matches.path.shape == dists.shape and matches.path.dtype == \
        torch.bool
    # soft is the gradient of the distance: each cell counted once per
    # direction in which it is a minimum
    (grad, ) = torch.autograd.grad(layer(dists).sum(), dists)
    torch.testing.assert_close(matches.soft, grad)
    assert (matches.path.any(-1).all() and matches.path.any(-2).all())
