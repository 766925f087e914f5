# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.losses import MutualDistillLoss

PEAKED = [0.0, 6.0, 6.0]  # distances: confident in class 0
FLAT = [1.0, 1.5, 1.5]
SIM_PEAKED = [5.0, 0.0, 0.0]  # prompt-token similarities
SIM_FLAT = [0.3, 0.2, 0.2]


def _kl(p_dist, q_dist):
    p = torch.as_tensor(p_dist, dtype=torch.float64).neg().softmax(-1)
    q = torch.as_tensor(q_dist, dtype=torch.float64).neg().softmax(-1)
    return (p * (p.log() - q.log())).sum(-1)


def _conf(dist, sim):
    v = torch.as_tensor(dist, dtype=torch.float64).neg().softmax(-1).max(-1)
    t = torch.as_tensor(sim, dtype=torch.float64).softmax(-1).max(-1)
    return v.values + t.values


def _t(rows):
    return torch.tensor([rows], dtype=torch.float64)  # [1, NQ, N]


def test_local_teaches_when_more_confident_in_both():
    loss = MODELS.build(dict(type='MutualDistillLoss'))
    out = loss(_t([PEAKED]), _t([FLAT]), _t([SIM_PEAKED]), _t([SIM_FLAT]))
    torch.testing.assert_close(out, _kl(PEAKED, FLAT))
    only_b = MutualDistillLoss(direction='global_to_local')
    assert only_b(_t([PEAKED]), _t([FLAT]), _t([SIM_PEAKED]),
                  _t([SIM_FLAT])) == 0


def test_global_teaches_when_more_confident_in_both():
    loss = MutualDistillLoss()
    out = loss(_t([FLAT]), _t([PEAKED]), _t([SIM_FLAT]), _t([SIM_PEAKED]))
    torch.testing.assert_close(out, _kl(PEAKED, FLAT))
    rel = loss.reliability(
        _t([FLAT]).neg().log_softmax(-1)[0],
        _t([PEAKED]).neg().log_softmax(-1)[0],
        _t([SIM_FLAT])[0],
        _t([SIM_PEAKED])[0])
    assert rel.b_teaches.tolist() == [True]
    assert rel.a_teaches.tolist() == [False]


def test_disagreeing_conditions():
    # Local is visually more confident, global textually: skipped with both
    # tests, decided by the single test otherwise.
    args = (_t([PEAKED]), _t([FLAT]), _t([SIM_FLAT]), _t([SIM_PEAKED]))
    both = MutualDistillLoss(conditions=('t', 'v'))(*args)
    assert both == 0
    v_only = MutualDistillLoss(conditions=['v'])(*args)
    torch.testing.assert_close(v_only, _kl(PEAKED, FLAT))
    t_only = MutualDistillLoss(conditions=['t'])(*args)
    torch.testing.assert_close(t_only, _kl(FLAT, PEAKED))
    # 'v' alone works without similarities; weights are then v only.
    assert MutualDistillLoss(conditions=['v'])(*args[:2]) > 0
    with pytest.raises(ValueError):
        MutualDistillLoss()(*args[:2])


def test_zero_keeps_graph_when_no_query_qualifies():
    dist_a = _t([PEAKED]).requires_grad_(True)
    out = MutualDistillLoss()(dist_a, _t([FLAT]), _t([SIM_FLAT]),
                              _t([SIM_PEAKED]))
    assert out.dim() == 0 and out.item() == 0
    assert out.requires_grad and out.dtype == torch.float64
    out.backward()
    assert dist_a.grad.abs().sum() == 0


@pytest.mark.parametrize('conditions', [('t', 'v'), ('v', ), ()])
def test_zero_when_views_agree(conditions):
    gen = torch.Generator().manual_seed(0)
    dist = torch.rand(2, 5, 5, generator=gen, requires_grad=True)
    sim = torch.rand(2, 5, 5, generator=gen)
    loss = MutualDistillLoss(conditions=conditions, detach_teacher=False)
    out = loss(dist, dist, sim, sim)
    assert out.item() == 0
    out.backward()
    assert torch.isfinite(dist.grad).all()


def test_confidence_weighting_and_directions():
    # Query 0: local teaches, confidence c0; query 1: local teaches with a
    # different confidence; query 2: global teaches.
    q0 = (PEAKED, FLAT, SIM_PEAKED, SIM_FLAT)
    q1 = ([0.0, 2.0, 3.0], [0.5, 0.6, 0.4], [2.0, 0.0, 1.0], SIM_FLAT)
    q2 = (FLAT, [0.0, 3.0, 2.0], SIM_FLAT, SIM_PEAKED)
    dist_a, dist_b, sim_a, sim_b = (
        _t([q[i] for q in (q0, q1, q2)]) for i in range(4))
    c0, c1 = _conf(q0[0], q0[2]), _conf(q1[0], q1[2])
    a_term = (c0 * _kl(q0[0], q0[1]) + c1 * _kl(q1[0], q1[1])) / (c0 + c1)
    b_term = _kl(q2[1], q2[0])
    args = (dist_a, dist_b, sim_a, sim_b)
    for name, expect in [('local_to_global', a_term), ('a_to_b', a_term),
                         ('down2up', a_term), ('global_to_local', b_term),
                         ('up2down', b_term),
                         ('bidirectional', a_term + b_term),
                         ('bid', a_term + b_term)]:
        out = MutualDistillLoss(direction=name, loss_weight=2.0)(*args)
        torch.testing.assert_close(out, 2 * expect)


def test_detach_teacher():
    dist_a = _t([PEAKED]).requires_grad_(True)
    dist_b = _t([FLAT]).requires_grad_(True)
    sim_a = _t([SIM_PEAKED]).requires_grad_(True)
    args = (dist_a, dist_b, sim_a, _t([SIM_FLAT]))
    MutualDistillLoss(detach_teacher=True)(*args).backward()
    assert dist_a.grad.abs().sum() == 0 and sim_a.grad is None
    assert dist_b.grad.abs().sum() > 0
    dist_a.grad = dist_b.grad = None
    MutualDistillLoss(detach_teacher=False)(*args).backward()
    assert dist_a.grad.abs().sum() > 0 and dist_b.grad.abs().sum() > 0


def test_unconditional_symmetric_kl():
    gen = torch.Generator().manual_seed(0)
    dist_a = torch.rand(2, 3, 4, generator=gen, dtype=torch.float64)
    dist_b = torch.rand(2, 3, 4, generator=gen, dtype=torch.float64)
    out = MutualDistillLoss(conditions=())(dist_a, dist_b)
    expect = (_kl(dist_a, dist_b) + _kl(dist_b, dist_a)).mean()
    torch.testing.assert_close(out, expect)
    logits = MutualDistillLoss(
        conditions=(), input_type='logits')(-dist_a, -dist_b)
    torch.testing.assert_close(logits, expect)


def test_autocast_bf16():
    gen = torch.Generator().manual_seed(0)
    dist_a = torch.rand(2, 25, 5, generator=gen) * 10
    dist_b = torch.rand(2, 25, 5, generator=gen) * 10
    sim_a, sim_b = torch.rand(2, 2, 25, 5, generator=gen)
    dist_a.requires_grad_(True)
    ref = MutualDistillLoss()(dist_a, dist_b, sim_a, sim_b)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = MutualDistillLoss()(dist_a.bfloat16(), dist_b.bfloat16(),
                                  sim_a.bfloat16(), sim_b.bfloat16())
    assert out.dtype == torch.bfloat16
    assert torch.isfinite(out.float())
    torch.testing.assert_close(out.float(), ref, rtol=0.1, atol=1e-2)


def test_bad_args():
    with pytest.raises(ValueError):
        MutualDistillLoss(conditions=('x', ))
    with pytest.raises(ValueError):
        MutualDistillLoss(direction='up')
    with pytest.raises(ValueError):
        MutualDistillLoss(input_type='probs')
    with pytest.raises(ValueError):
        MutualDistillLoss()(torch.rand(2, 3), torch.rand(3, 3))


@pytest.mark.parametrize('conditions', [('t', 'v'), ('v', ), ()])
def test_batch_of_episodes_averages_per_episode(conditions):
    """B episodes in one call = the mean of B single-episode calls (the
    official code's weighting; a pooled mean over all queries would give
    each episode's distillation another weight than its CE)."""
    torch.manual_seed(0)
    loss = MutualDistillLoss(conditions=conditions)
    da, db = torch.randn(2, 5, 5), torch.randn(2, 5, 5)
    sa, sb = torch.randn(2, 5, 5), torch.randn(2, 5, 5)
    batched = loss(da, db, sa, sb)
    single = [loss(da[i], db[i], sa[i], sb[i]) for i in range(2)]
    torch.testing.assert_close(batched, (single[0] + single[1]) / 2,
                               rtol=0, atol=1e-6)
    if conditions:
        # the pooled weighted mean over all 10 queries is another number
        pooled = loss(da.reshape(1, 10, 5), db.reshape(1, 10, 5),
                      sa.reshape(1, 10, 5), sb.reshape(1, 10, 5))
        assert abs(float(pooled - batched)) > 1e-4


def test_refuses_other_ranks():
    with pytest.raises(ValueError, match=r'\[NQ, N\] or \[B, NQ, N\]'):
        MutualDistillLoss()(torch.randn(5), torch.randn(5))
