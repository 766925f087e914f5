# Copyright (c) m2df_mmaction contributors.
"""The layers and the distillation loss composed as an M2DF head would."""
import pytest
import torch

from m2df_mmaction.models.layers import (CrossTransformerFusion,
                                         GlobalTemporalContext,
                                         LocalTemporalContext,
                                         ProbabilityPromptSelector, cos_sim,
                                         frame_distance, otam_distance)
from m2df_mmaction.models.losses import MutualDistillLoss

DIMS = 16


@pytest.fixture(scope='module')
def modules():
    torch.manual_seed(0)
    return dict(
        local=LocalTemporalContext(DIMS),
        glob=GlobalTemporalContext(DIMS),
        fuse_l=CrossTransformerFusion(DIMS, ffn_dims=32),
        fuse_g=CrossTransformerFusion(DIMS, ffn_dims=32),
        pps=ProbabilityPromptSelector(),
        distill=MutualDistillLoss())


def _run(m, ways, shots, queries, frames, batch=1):
    gen = torch.Generator().manual_seed(ways * 100 + shots * 10 + queries)
    support = torch.randn(batch, ways * shots, frames, DIMS, generator=gen)
    query = torch.randn(
        batch, ways * queries, frames, DIMS, generator=gen, requires_grad=True)
    text = torch.randn(batch, ways, DIMS, generator=gen)
    support_prompt = text.repeat_interleave(shots, 1)
    sel = m['pps'](query, text, torch.arange(batch), seed=1)
    views = {}
    for name, ctx, fuse in (('l', m['local'], m['fuse_l']), ('g', m['glob'],
                                                             m['fuse_g'])):
        s_out = fuse(ctx(support), support, support_prompt)
        q_out = fuse(ctx(query), query, sel.prompt)
        proto = s_out.unflatten(1, (ways, shots)).mean(2)  # [B, N, 1+T, D]
        dist = otam_distance(
            frame_distance(q_out[:, :, None, 1:], proto[:, None, :, 1:]))
        sim = cos_sim(q_out[:, :, None, 0:1], proto[:, None, :, 0:1])
        views[name] = (dist, sim[..., 0, 0])
    logits = -(views['l'][0] + views['g'][0])
    loss = m['distill'](views['l'][0], views['g'][0], views['l'][1],
                        views['g'][1])
    return logits, loss, query


@pytest.mark.parametrize('ways', [2, 5])
@pytest.mark.parametrize('shots', [1, 5])
@pytest.mark.parametrize('queries', [1, 5])
@pytest.mark.parametrize('frames', [4, 8])
def test_shapes(modules, ways, shots, queries, frames):
    logits, loss, query = _run(modules, ways, shots, queries, frames)
    assert logits.shape == (1, ways * queries, ways)
    assert loss.dim() == 0 and torch.isfinite(loss)
    (logits.sum() + loss).backward()
    assert torch.isfinite(query.grad).all()


@pytest.mark.parametrize('ways,shots,queries,frames', [(5, 1, 5, 8),
                                                       (2, 5, 1, 4)])
def test_bf16_autocast(modules, ways, shots, queries, frames):
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logits, loss, query = _run(modules, ways, shots, queries, frames)
    assert logits.shape == (1, ways * queries, ways)
    assert torch.isfinite(logits.float()).all()
    (logits.float().sum() + loss.float()).backward()
    assert torch.isfinite(query.grad).all()
