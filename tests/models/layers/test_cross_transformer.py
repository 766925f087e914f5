# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.layers import CrossTransformerFusion


def _build(dims=32, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='CrossTransformerFusion', embed_dims=dims, **kwargs)).eval()


@pytest.mark.parametrize('num_frames', [4, 8])
@pytest.mark.parametrize('lead', [(3, ), (2, 5)])
def test_shapes(num_frames, lead):
    fusion = _build()
    ctx = torch.randn(*lead, num_frames, 32)
    frames = torch.randn(*lead, num_frames, 32)
    prompt = torch.randn(*lead, 32)
    assert fusion(ctx, frames, prompt).shape == (*lead, 1 + num_frames, 32)
    assert fusion(ctx, frames).shape == (*lead, num_frames, 32)


def test_prompt_token_depends_on_prompt():
    fusion = _build()
    ctx, frames = torch.randn(2, 8, 32), torch.randn(2, 8, 32)
    p1, p2 = torch.randn(2, 32), torch.randn(2, 32)
    out1, out2 = fusion(ctx, frames, p1), fusion(ctx, frames, p2)
    assert not torch.allclose(out1[:, 0], out2[:, 0])
    # Row 0 is the prompt token: its output is prompt + attention + FFN.
    p3 = p1.clone()
    p3[0] += 10
    out3 = fusion(ctx, frames, p3)
    assert not torch.allclose(out3[0, 0], out1[0, 0])
    torch.testing.assert_close(out3[1], out1[1])


def test_structure_and_params():
    fusion = CrossTransformerFusion(64)
    num = sum(p.numel() for p in fusion.parameters())
    dims = 64
    assert num == 4 * dims**2 + 4096 * dims + 2048 + 4 * dims
    attn = fusion.attns[0]
    assert attn.num_heads == 8 and attn.to_q.bias is None
    assert attn.to_out[1].p == 0.2
    assert fusion.ffns[0][2].p == fusion.ffns[0][4].p == 0.05
    deep = CrossTransformerFusion(64, depth=2, ffn_dims=128)
    assert len(deep.attns) == 2


def test_keys_are_raw_frames_queries_are_context():
    # No positional encoding: permuting the key/value frames leaves the
    # output unchanged; permuting the query stream permutes the output.
    fusion = _build()
    ctx, frames = torch.randn(2, 8, 32), torch.randn(2, 8, 32)
    prompt = torch.randn(2, 32)
    perm = torch.randperm(8)
    base = fusion(ctx, frames, prompt)
    torch.testing.assert_close(fusion(ctx, frames[:, perm], prompt), base)
    out = fusion(ctx[:, perm], frames, prompt)
    torch.testing.assert_close(out[:, 1:], base[:, 1:][:, perm])


def test_autocast_and_backward():
    fusion = _build().train()
    ctx = torch.randn(4, 8, 32, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = fusion(ctx, torch.randn(4, 8, 32), torch.randn(4, 32))
    assert out.shape == (4, 9, 32)
    out.float().sum().backward()
    assert torch.isfinite(ctx.grad).all()


def test_bad_heads():
    with pytest.raises(ValueError):
        CrossTransformerFusion(30, num_heads=8)
