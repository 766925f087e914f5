# Copyright (c) m2df_mmaction contributors.
"""MoLo's motion decoder: pixel-level frame differences from motion maps.

Official: ``Up2`` (L889), ``DoubleConv2`` (L937) and ``OutConv`` (L956) of
``models/base/few_shot.py`` (alibaba-mmai-research/MoLo ``f7f73b6``),
assembled in ``CNN_BiMHM_MoLo.__init__`` (L2449-L2452) as ``up1``
(x2, 64 -> 128), ``up2`` (x4, 128 -> 32), ``up3`` (x4, 32 -> 16) and
``outc`` (1x1, 16 -> 3): each stage is a bilinear upsampling
(``align_corners=True``), then ``Conv3x3`` without bias, BatchNorm and
ReLU; 7x7 motion maps become 224x224 images. The reconstruction target
is the difference of consecutive input frames
(:class:`MotionReconstructionLoss`).

Each stage is MMCV's :class:`~mmcv.cnn.ConvModule` (conv, norm, act), so
``norm_cfg`` can be ``SyncBN`` under DDP; the upsampling is
:class:`torch.nn.Upsample`.
"""
from typing import Sequence

from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from torch import Tensor, nn

__all__ = ['MoLoMotionDecoder']


@MODELS.register_module()
class MoLoMotionDecoder(nn.Module):
    """Upsample motion maps to frame differences.

    Args:
        in_channels (int): Channels ``C'`` of the motion maps (official
            ``mid_dim // 8``).
        channels (Sequence[int]): Output channels of the stages. Defaults
            to ``(128, 32, 16)`` (official, whatever ``C'``).
        scale_factors (Sequence[int]): Upsampling factor of each stage.
            Defaults to ``(2, 4, 4)``: x32, 7x7 maps to 224x224 frames.
        out_channels (int): Image channels. Defaults to 3.
        norm_cfg (dict): Norm of the stages. Defaults to ``BN`` (official
            ``BatchNorm2d``, momentum 0.1).
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (128, 32, 16),
                 scale_factors: Sequence[int] = (2, 4, 4),
                 out_channels: int = 3,
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        if len(channels) != len(scale_factors):
            raise ValueError(f'channels {tuple(channels)} and scale_factors '
                             f'{tuple(scale_factors)} must have one entry '
                             'per stage.')
        self.scale_factors = tuple(scale_factors)
        self.ups = nn.ModuleList(
            nn.Upsample(scale_factor=s, mode='bilinear', align_corners=True)
            for s in scale_factors)
        self.convs = nn.ModuleList()
        for width in channels:
            self.convs.append(
                ConvModule(
                    in_channels,
                    width,
                    3,
                    padding=1,
                    bias=False,
                    norm_cfg=norm_cfg,
                    act_cfg=dict(type='ReLU')))
            in_channels = width
        self.out_conv = nn.Conv2d(in_channels, out_channels, 1)

    @property
    def upscale(self) -> int:
        """The total upsampling factor (official 32)."""
        total = 1
        for factor in self.scale_factors:
            total *= factor
        return total

    def forward(self, motion: Tensor) -> Tensor:
        """Decode.

        Args:
            motion (Tensor): ``[V, C', h, w]`` motion maps.

        Returns:
            Tensor: ``[V, 3, h * upscale, w * upscale]``.
        """
        for up, conv in zip(self.ups, self.convs):
            motion = conv(up(motion))
        return self.out_conv(motion)
