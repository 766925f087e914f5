# Copyright (c) m2df_mmaction contributors.
import itertools
import math

import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.layers import (OTAM, cos_sim, frame_distance,
                                         otam_distance,
                                         otam_distance_reference,
                                         pairwise_cos_sim)
from m2df_mmaction.models.layers.otam import _logcumsumexp


def _path_sum_distance(dists: torch.Tensor, lbda: float) -> float:
    """OTAM of one [Tq, Ts] matrix by enumerating every alignment path.

    In log space the soft-min recurrence is a sum over paths:
    ``exp(-C / lbda) = sum_paths prod_cells exp(-D_cell / lbda)``. On the
    padded grid (zero columns 0 and Ts + 1) every cell ``(l, 0)`` is a
    source of weight one (row 0 starts at ``(0, 0)``); moves go right
    everywhere, diagonally down-right from row ``l - 1`` to ``l`` and
    straight down only into columns 1 and Ts + 1. The sink is
    ``(Tq - 1, Ts + 1)``.
    """
    rows, cols = dists.shape
    weight = torch.ones(rows, cols + 2, dtype=torch.float64)
    weight[:, 1:cols + 1] = torch.exp(-dists.double() / lbda)

    def parents(l, m):  # noqa: E741
        if m == 0:
            return []
        out = [(l, m - 1)]
        if l >= 1:
            out.append((l - 1, m - 1))
            if m in (1, cols + 1):
                out.append((l - 1, m))
        return out

    def paths_to(l, m):  # noqa: E741
        # Each path is a list of cells after its source.
        if m == 0:
            return [[]]
        return [
            p + [(l, m)] for pl, pm in parents(l, m) for p in paths_to(pl, pm)
        ]

    total = 0.0
    for path in paths_to(rows - 1, cols + 1):
        total += math.prod(weight[c].item() for c in path)
    return -lbda * math.log(total)


@pytest.mark.parametrize('shape', [(3, 3), (3, 4), (4, 3), (4, 4), (1, 3),
                                   (3, 1), (2, 5)])
@pytest.mark.parametrize('lbda', [0.5, 0.1])
def test_otam_matches_path_enumeration(shape, lbda):
    gen = torch.Generator().manual_seed(sum(shape))
    d = torch.rand(*shape, generator=gen, dtype=torch.float64) * 2
    one = otam_distance(d, lbda, bidirectional=False).item()
    assert one == pytest.approx(_path_sum_distance(d, lbda), rel=1e-10)
    ref_one = otam_distance_reference(d, lbda, bidirectional=False).item()
    assert ref_one == pytest.approx(_path_sum_distance(d, lbda), rel=1e-10)
    both = otam_distance(d, lbda, bidirectional=True).item()
    expect = _path_sum_distance(d, lbda) + _path_sum_distance(d.T, lbda)
    assert both == pytest.approx(expect, rel=1e-10)


@pytest.mark.parametrize('shape', [(8, 8), (2, 3, 8, 8), (2, 5, 4, 6, 4),
                                   (3, 7, 5), (1, 1), (4, 1, 6)])
@pytest.mark.parametrize('bidirectional', [True, False])
def test_otam_matches_cell_by_cell_reference(shape, bidirectional):
    gen = torch.Generator().manual_seed(0)
    d = torch.rand(*shape, generator=gen, dtype=torch.float64) * 2
    d_fast = d.clone().requires_grad_(True)
    d_ref = d.clone().requires_grad_(True)
    fast = otam_distance(d_fast, 0.5, bidirectional)
    ref = otam_distance_reference(d_ref, 0.5, bidirectional)
    assert fast.shape == shape[:-2]
    assert fast.dtype == torch.float64
    torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)
    upstream = torch.rand(fast.shape, generator=gen, dtype=torch.float64)
    (grad_fast, ) = torch.autograd.grad((fast * upstream).sum(), d_fast)
    (grad_ref, ) = torch.autograd.grad((ref * upstream).sum(), d_ref)
    torch.testing.assert_close(grad_fast, grad_ref, rtol=1e-10, atol=1e-12)


def test_otam_gradcheck():
    gen = torch.Generator().manual_seed(1)
    d = torch.rand(2, 4, 5, generator=gen, dtype=torch.float64)
    d.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: otam_distance(x, 0.5, True),
                                    (d, ))


def test_otam_bidirectional_is_sum_of_passes():
    d = torch.rand(3, 5, 6)
    both = otam_distance(d, 0.5, True)
    one = otam_distance(d, 0.5, False)
    other = otam_distance(d.transpose(-1, -2), 0.5, False)
    torch.testing.assert_close(both, one + other)


def test_otam_float32_and_bf16():
    d = torch.rand(5, 5, 8, 8) * 2
    ref = otam_distance_reference(d, 0.5, True)
    out = otam_distance(d, 0.5, True)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-5)
    out_bf16 = otam_distance(d.bfloat16(), 0.5, True)
    assert out_bf16.dtype == torch.bfloat16
    torch.testing.assert_close(out_bf16.double(), ref, rtol=2e-2, atol=5e-2)


def test_otam_module_under_autocast():
    otam = MODELS.build(dict(type='OTAM', lbda=0.5, bidirectional=False))
    assert isinstance(otam, OTAM)
    assert 'bidirectional=False' in repr(otam)
    q = torch.randn(2, 3, 1, 8, 16, requires_grad=True)
    s = torch.randn(2, 1, 5, 8, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        dist = otam(frame_distance(q, s))
    assert dist.shape == (2, 3, 5)
    assert torch.isfinite(dist.float()).all()
    dist.float().sum().backward()
    assert torch.isfinite(q.grad).all()


def test_otam_invalid_args():
    with pytest.raises(ValueError):
        otam_distance(torch.rand(3), 0.5)
    with pytest.raises(ValueError):
        otam_distance(torch.rand(3, 3), 0.0)
    with pytest.raises(ValueError):
        OTAM(lbda=-1.0)


def test_otam_prefers_aligned_order():
    # A query whose frames follow the support's order aligns better than
    # one in reverse order.
    gen = torch.Generator().manual_seed(0)
    support = torch.randn(8, 32, generator=gen)
    forward = otam_distance(frame_distance(support, support), 0.5, True)
    backward = otam_distance(
        frame_distance(support.flip(0), support), 0.5, True)
    assert forward < backward


def test_cos_sim_formula():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 8, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 1, 5, 8, generator=gen, dtype=torch.float64)
    sim = cos_sim(x, y)
    assert sim.shape == (2, 3, 4, 5)
    for b, i, t, s in itertools.product(
            range(2), range(3), range(4), range(5)):
        xv, yv = x[b, i, t], y[b, 0, s]
        expect = (xv @ yv) / (xv.norm() * yv.norm() + 0.01)
        assert sim[b, i, t, s].item() == pytest.approx(expect.item())
    torch.testing.assert_close(frame_distance(x, y), 1 - sim)
    # eps=0 is the plain cosine.
    torch.testing.assert_close(
        cos_sim(x, y, eps=0.0),
        torch.nn.functional.cosine_similarity(
            x.unsqueeze(-2), y.unsqueeze(-3), dim=-1))


def test_cos_sim_autocast_dtype():
    x = torch.randn(3, 4, 8)
    y = torch.randn(3, 5, 8)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        sim = cos_sim(x, y)
    assert sim.dtype == torch.bfloat16
    torch.testing.assert_close(
        sim.float(), cos_sim(x, y), atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_cpu_logcumsumexp_is_torchs(dtype):
    """The shifted exp-cumsum-log form equals torch.logcumsumexp, also in
    its gradient; far-apart and non-finite rows take torch's kernel."""
    gen = torch.Generator().manual_seed(0)
    z = (torch.randn(64, 9, generator=gen, dtype=dtype) * 8).requires_grad_()
    fast, exact = _logcumsumexp(z), torch.logcumsumexp(z, -1)
    torch.testing.assert_close(fast, exact)
    grad_fast, = torch.autograd.grad(fast.sum(), z)
    grad_exact, = torch.autograd.grad(exact.sum(), z)
    torch.testing.assert_close(grad_fast, grad_exact)
    limit = 80 if dtype == torch.float32 else 701
    far = torch.tensor([[-limit - 20.0, 0.0, 1.0], [0.0, -1.0, 2.0]],
                       dtype=dtype)
    far[0, 0] = far[0, 0] - 50  # the plain form would give -inf at [0, 0]
    torch.testing.assert_close(_logcumsumexp(far),
                               torch.logcumsumexp(far, -1))
    assert torch.isfinite(_logcumsumexp(far)).all()
    special = torch.tensor([[-math.inf, 0.0, 1.0], [0.0, math.inf, 1.0]],
                           dtype=dtype)
    torch.testing.assert_close(_logcumsumexp(special),
                               torch.logcumsumexp(special, -1))


def test_pairwise_cos_sim_is_broadcast_cos_sim():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 8, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 5, 6, 8, generator=gen, dtype=torch.float64)
    pairs = pairwise_cos_sim(x, y)
    assert pairs.shape == (2, 3, 5, 4, 6)
    torch.testing.assert_close(pairs, cos_sim(x[:, :, None], y[:, None]))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert pairwise_cos_sim(x.float(), y.float()).dtype == torch.bfloat16
