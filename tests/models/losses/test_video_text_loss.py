# Copyright (c) m2df_mmaction contributors.
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from m2df_mmaction.models.layers import cos_sim
from m2df_mmaction.models.losses import VideoTextLoss


def test_video_text_loss_value_and_scale_grad():
    torch.manual_seed(0)
    video, text = torch.randn(6, 16), torch.randn(10, 16)
    labels = torch.tensor([0, 3, 3, 9, 1, 2])
    loss = MODELS.build(dict(type='VideoTextLoss', scale=2.0, loss_weight=1.5))
    out = loss(video, text, labels)
    expect = 1.5 * F.cross_entropy(2.0 * cos_sim(video, text), labels)
    torch.testing.assert_close(out, expect)
    out.backward()
    assert loss.scale.grad is not None and loss.scale.grad != 0
    assert loss.loss_name == 'loss_video_text'


def test_video_text_loss_fixed_scale_and_autocast():
    loss = VideoTextLoss(scale=3.0, learnable_scale=False)
    assert 'scale' in dict(loss.named_buffers())
    assert not list(loss.parameters())
    video = torch.randn(4, 8, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = loss(video, torch.randn(5, 8), torch.tensor([0, 1, 2, 4]))
    assert out.dtype == torch.float32
    out.backward()
    assert torch.isfinite(video.grad).all()
