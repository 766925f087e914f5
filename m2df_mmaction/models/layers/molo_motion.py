# Copyright (c) m2df_mmaction contributors.
"""MoLo's motion stream on spatial maps (Wang et al., CVPR 2023).

Official: ``CNN_BiMHM_MoLo.get_feats`` of ``models/base/few_shot.py``
(alibaba-mmai-research/MoLo ``f7f73b6``, L2440-L2475), modules built at
L2438-L2441:

- ``motion_reduce``: ``Conv3d(C -> C/8, 3x3x3, padding 1)`` over
  ``[V, C, T, h, w]``;
- ``motion_conv``: ``Conv2d(C/8 -> C/8, 3x3, padding 1)`` per frame;
- motion of frame ``t`` (``t = 0 .. T-2``) =
  ``motion_conv(m)[t + 1] - m[t]``: the convolved *next* frame minus the
  un-convolved current one (not ``conv(next) - conv(current)``);
- ``motion_up``: ``Conv2d(C/8 -> D, 1x1)``, then ReLU and a spatial mean
  give the per-frame motion features the temporal transformer reads.

The maps before ``motion_up`` are what the decoder
(:class:`MoLoMotionDecoder`) reconstructs frame differences from.
"""
from typing import Optional

import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['MoLoMotionEncoder']


@MODELS.register_module()
class MoLoMotionEncoder(nn.Module):
    """Feature-level frame differences of spatial maps.

    Args:
        in_channels (int): Channels ``C`` of the spatial maps (official
            ``mid_dim``: 2048 for ResNet-50, 512 for ResNet-18/34).
        motion_channels (int, optional): Width ``C'`` of the motion maps.
            Defaults to ``in_channels // reduction``.
        reduction (int): ``C / C'`` when ``motion_channels`` is None
            (official ``self.factor = 8``, L2437).
        out_channels (int, optional): Dim of the motion features after
            ``up`` (official ``mid_dim``). Defaults to ``in_channels``.
    """

    def __init__(self,
                 in_channels: int,
                 motion_channels: Optional[int] = None,
                 reduction: int = 8,
                 out_channels: Optional[int] = None) -> None:
        super().__init__()
        if motion_channels is None:
            if in_channels % reduction:
                raise ValueError(
                    f'in_channels {in_channels} is not divisible by '
                    f'reduction {reduction}: set motion_channels.')
            motion_channels = in_channels // reduction
        out_channels = in_channels if out_channels is None else out_channels
        self.in_channels = in_channels
        self.motion_channels = motion_channels
        self.out_channels = out_channels
        self.reduce = nn.Conv3d(in_channels, motion_channels, 3, padding=1)
        self.conv = nn.Conv2d(motion_channels, motion_channels, 3, padding=1)
        self.up = nn.Conv2d(motion_channels, out_channels, 1)

    def forward(self, maps: Tensor) -> Tensor:
        """Motion maps of each video.

        Args:
            maps (Tensor): ``[V, T, C, h, w]`` spatial maps of ``V``
                videos, ``T >= 2``.

        Returns:
            Tensor: ``[V, T-1, C', h, w]``.
        """
        if maps.dim() != 5 or maps.size(2) != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} takes spatial maps [V, T, C='
                f'{self.in_channels}, h, w], got {tuple(maps.shape)}.')
        if maps.size(1) < 2:
            raise ValueError('Motion needs at least 2 frames, got '
                             f'T={maps.size(1)}.')
        # Conv3d over [V, C, T, h, w], back to [V, T, C', h, w]
        reduced = self.reduce(maps.transpose(1, 2)).transpose(1, 2)
        convolved = self.conv(reduced.flatten(0, 1)).view_as(reduced)
        return convolved[:, 1:] - reduced[:, :-1]

    def embed(self, motion: Tensor) -> Tensor:
        """Per-frame motion features: ``mean_hw(ReLU(up(motion)))``.

        Args:
            motion (Tensor): ``[V, T', C', h, w]`` from :meth:`forward`.

        Returns:
            Tensor: ``[V, T', D]``.
        """
        feats = F.relu(self.up(motion.flatten(0, 1))).mean((-2, -1))
        return feats.unflatten(0, motion.shape[:2])
