# Copyright (c) m2df_mmaction contributors.
"""The frame alignment behind an OTAM distance."""
import pytest
import torch

from m2df_mmaction.models.layers import (otam_alignment, otam_distance,
                                         otam_distance_reference)


def path_rows(path):
    """Rows of each column of a ``[Tq, Ts]`` path mask."""
    return [path[:, m].nonzero().flatten().tolist()
            for m in range(path.shape[1])]


def test_diagonal_distances_give_the_diagonal():
    dists = 1 - torch.eye(8)
    align = otam_alignment(dists)
    assert torch.equal(align.path, torch.eye(8, dtype=torch.bool))
    # A sharp soft-min puts (almost) all its mass on the same path, once
    # per pass.
    sharp = otam_alignment(dists, lbda=0.02)
    assert torch.allclose(sharp.soft, 2 * torch.eye(8), atol=1e-3)
    one_pass = otam_alignment(dists, lbda=0.02, bidirectional=False)
    assert torch.allclose(one_pass.soft, torch.eye(8), atol=1e-3)


def test_a_shifted_match_is_found():
    # Query frame l shows support frame l - 2: the path follows the shift
    # and the first two query frames wait in the padding.
    dists = torch.ones(8, 8)
    for l in range(2, 8):  # noqa: E741
        dists[l, l - 2] = 0
    dists[7, 6:] = 0  # the last query frame also matches the last two
    path = otam_alignment(dists).path
    assert path_rows(path) == [[2], [3], [4], [5], [6], [7], [7], [7]]


@pytest.mark.parametrize('bidirectional', [True, False])
def test_soft_alignment_is_the_gradient_of_the_distance(bidirectional):
    torch.manual_seed(0)
    dists = torch.rand(2, 3, 5, 6, dtype=torch.float64) * 2
    soft = otam_alignment(dists, 0.3, bidirectional).soft
    ref_in = dists.clone().requires_grad_(True)
    otam_distance_reference(ref_in, 0.3, bidirectional).sum().backward()
    assert soft.shape == dists.shape and soft.dtype == torch.float64
    assert torch.allclose(soft, ref_in.grad, atol=1e-10)


def test_soft_alignment_column_sums_and_range():
    # Every path of one pass visits support frames 1..Ts-1 exactly once and
    # frame 0 at least once: the expected visits say the same.
    torch.manual_seed(1)
    dists = torch.rand(4, 7, 6) * 2
    soft = otam_alignment(dists, 0.5, bidirectional=False).soft
    cols = soft.sum(-2)
    assert torch.allclose(cols[:, 1:], torch.ones(4, 5), atol=1e-5)
    assert (cols[:, 0] >= 1 - 1e-5).all()
    assert (soft >= -1e-6).all() and (soft <= 1 + 1e-6).all()
    # ... and the expected query frame of each support frame moves forward
    rows = torch.arange(7.)[:, None]
    mean_row = (soft * rows).sum(-2) / cols
    assert (mean_row[:, 2:] - mean_row[:, 1:-1] >= -1e-5).all()


def test_hard_path_is_monotone_and_optimal():
    torch.manual_seed(2)
    dists = torch.rand(20, 6, 9, dtype=torch.float64) * 2
    path = otam_alignment(dists, bidirectional=False).path
    costs = (dists * path).sum((-1, -2))
    # the hard min is the soft-min's limit lbda -> 0
    limit = otam_distance(dists, lbda=1e-5, bidirectional=False)
    assert torch.allclose(costs, limit, atol=1e-3)
    for one in path:
        rows = path_rows(one)
        assert len(rows[0]) >= 1 and all(len(r) == 1 for r in rows[1:])
        assert rows[0] == list(range(rows[0][0], rows[0][-1] + 1))
        for left, right in zip(rows, rows[1:]):
            assert right[0] - left[-1] in (0, 1)  # horizontal or diagonal


def test_unequal_lengths_and_batched_dims():
    dists = torch.rand(2, 3, 5, 8)
    align = otam_alignment(dists)
    assert align.soft.shape == align.path.shape == (2, 3, 5, 8)
    assert align.path.dtype == torch.bool
    assert torch.equal(align.path[1, 2], otam_alignment(dists[1, 2]).path)


def test_works_without_autograd_and_leaves_input_alone():
    dists = torch.rand(3, 8, 8)
    expected = otam_alignment(dists)
    with torch.no_grad():
        no_grad = otam_alignment(dists)
    with torch.inference_mode():
        inference = otam_alignment(torch.rand(3, 8, 8).copy_(dists))
    for got in (no_grad, inference):
        assert torch.equal(got.soft, expected.soft)
        assert torch.equal(got.path, expected.path)
    assert not dists.requires_grad and dists.grad is None


def test_bad_arguments():
    with pytest.raises(ValueError, match='Tq, Ts'):
        otam_alignment(torch.rand(5))
    with pytest.raises(ValueError, match='positive'):
        otam_alignment(torch.rand(4, 4), lbda=0)
