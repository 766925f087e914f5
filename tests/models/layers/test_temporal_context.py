# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.layers import (GlobalTemporalContext,
                                         LocalTemporalContext)


@pytest.mark.parametrize('num_frames', [4, 8])
def test_local_context_shape_and_receptive_field(num_frames):
    torch.manual_seed(0)
    ltce = MODELS.build(dict(type='LocalTemporalContext', in_channels=6))
    assert isinstance(ltce, LocalTemporalContext)
    x = torch.randn(2, 3, num_frames, 6, requires_grad=True)
    out = ltce(x)
    assert out.shape == x.shape
    # Gradient of output frame t reaches exactly frames t-2..t+2.
    t = num_frames // 2
    out[1, 2, t].sum().backward()
    touched = (x.grad[1, 2].abs().sum(-1) > 0).nonzero().flatten().tolist()
    assert touched == list(range(max(t - 2, 0), min(t + 3, num_frames)))
    assert x.grad[0].abs().sum() == 0  # videos stay independent


def test_tcn_trunk_is_causal():
    torch.manual_seed(0)
    gtce = GlobalTemporalContext(8).eval()
    x = torch.randn(3, 8, 8)
    base = gtce.trunk(x)
    for t in range(7):
        changed = x.clone()
        changed[:, t + 1:] = torch.randn_like(changed[:, t + 1:])
        out = gtce.trunk(changed)
        torch.testing.assert_close(out[:, :t + 1], base[:, :t + 1])
        assert not torch.allclose(out[:, t + 1:], base[:, t + 1:])


@pytest.mark.parametrize('num_frames', [4, 8, 11])
def test_global_context_adds_last_step(num_frames):
    torch.manual_seed(0)
    gtce = MODELS.build(dict(type='GlobalTemporalContext',
                             in_channels=8)).eval()
    x = torch.randn(2, 5, num_frames, 8, requires_grad=True)
    out = gtce(x)
    assert out.shape == x.shape
    last = gtce.trunk(x)[..., -1, :]
    torch.testing.assert_close(out, x + last.unsqueeze(-2))
    # The summary depends on the first frame (receptive field >= T).
    out[0, 0, 0].sum().backward()
    assert x.grad[0, 0, -1].abs().sum() > 0


def test_global_context_weight_norm_and_dropout():
    gtce = GlobalTemporalContext(4, dropout=0.1)
    keys = gtce.state_dict().keys()
    assert 'blocks.0.conv1.parametrizations.weight.original0' in keys
    assert len(gtce.blocks) == 3
    assert [b.conv1.dilation[0] for b in gtce.blocks] == [1, 2, 4]
    x = torch.randn(2, 8, 4)
    gtce.train()
    assert not torch.equal(gtce(x), gtce(x))  # dropout active
    gtce.eval()
    assert torch.equal(gtce(x), gtce(x))


def test_context_under_autocast():
    x = torch.randn(2, 8, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        local = LocalTemporalContext(16)(x)
        glob = GlobalTemporalContext(16)(x)
    assert local.shape == glob.shape == x.shape
    assert torch.isfinite(local.float()).all()
    assert torch.isfinite(glob.float()).all()


def test_local_context_rejects_even_kernel():
    with pytest.raises(ValueError):
        LocalTemporalContext(4, kernel_size=4)
