# Copyright (c) m2df_mmaction contributors.
"""3D deformable attention over a video's patch grid (D2ST-Adapter).

Each token of a video attends to a few points of the video's
``[T, H, W]`` patch grid, sampled at learned offsets from a regular
lattice: a grouped convolution over the queries' grid predicts, per group
of channels and per lattice cell, a 3D offset (``tanh``, at most two cells
of the lattice in each direction), the grid is sampled there trilinearly
and the sampled points are the keys and values of an ordinary multi-head
attention. The lattice is the convolution's output grid: its kernel and
stride decide how many points are sampled and where: D2ST's spatial
attention (kernel 4x5x5, stride 4x3x3 on 8x14x14) samples 2x4x4 points,
its temporal one (kernel 1x7x7, stride 1x7x7) 8x2x2.

Numerics of D2ST-Adapter's ``ViT_DeformAttention`` and
``ResNet_DeformAttention`` (qizhongtan/D2ST-Adapter
``models/base/adapter.py``): reference points at the lattice cells' centres
in ``[-1, 1]``, ``grid_sample(..., align_corners=True)``; for ViT tokens
(:meth:`DeformableAttention3D.forward`) the class token a query but not a
key; for ResNet feature maps (:meth:`DeformableAttention3D.forward_grid`)
every grid cell a query. The ResNet variant's ``1x1x1`` convolutions are
the linear projections here (same weights, reshaped).
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

__all__ = ['DeformableAttention3D', 'ChannelLayerNorm3d']


class ChannelLayerNorm3d(nn.LayerNorm):
    """LayerNorm over the channels of ``[B, C, T, H, W]``."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class DeformableAttention3D(nn.Module):
    """Deformable attention of a video's tokens to sampled grid points.

    Args:
        embed_dims (int): Channels ``C``.
        num_heads (int): Attention heads.
        num_groups (int): Offset groups: each group of ``C / num_groups``
            channels gets its own offsets.
        kernel_size (tuple[int]): ``(t, h, w)`` kernel of the offset
            convolution.
        stride (tuple[int]): Its stride (the sampling lattice).
        offset_factor (float): Largest offset, in lattice cells. Defaults
            to 2 (D2ST's ``factor``).
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 num_groups: int,
                 kernel_size: Tuple[int, int, int],
                 stride: Tuple[int, int, int],
                 offset_factor: float = 2.0) -> None:
        super().__init__()
        if embed_dims % num_heads or embed_dims % num_groups:
            raise ValueError(
                f'DeformableAttention3D: embed_dims={embed_dims} must be '
                f'divisible by num_heads={num_heads} and '
                f'num_groups={num_groups}.')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.num_groups = num_groups
        self.kernel_size = tuple(kernel_size)
        self.offset_factor = offset_factor
        self.scale = (embed_dims // num_heads)**-0.5
        group_dims = embed_dims // num_groups
        self.conv_offset = nn.Sequential(
            nn.Conv3d(group_dims, group_dims, kernel_size, stride,
                      groups=group_dims),
            ChannelLayerNorm3d(group_dims), nn.GELU(),
            nn.Conv3d(group_dims, 3, 1, bias=False))
        self.proj_q = nn.Linear(embed_dims, embed_dims)
        self.proj_k = nn.Linear(embed_dims, embed_dims)
        self.proj_v = nn.Linear(embed_dims, embed_dims)
        self.proj_out = nn.Linear(embed_dims, embed_dims)

    def _check_grid(self, t: int, h: int, w: int) -> None:
        for size, k in zip((t, h, w), self.kernel_size):
            if size < k:
                raise ValueError(
                    f'DeformableAttention3D: a {t}x{h}x{w} grid is smaller '
                    f'than the offset kernel {self.kernel_size}.')

    def _sample(self, q_grid: Tensor, x_grid: Tensor) -> Tensor:
        """Offsets from the queries, points sampled from the inputs.

        Args:
            q_grid (Tensor): ``[B, C, T, H, W]`` projected queries.
            x_grid (Tensor): ``[B, C, T, H, W]`` inputs.

        Returns:
            Tensor: ``[B, S, C]`` sampled points.
        """
        b, c = x_grid.shape[:2]
        g = self.num_groups
        offset = self.conv_offset(q_grid.reshape(
            b * g, c // g, *q_grid.shape[2:]))  # [B*g, 3, t', h', w']
        lattice = offset.shape[2:]
        limit = offset.new_tensor(
            [min(1.0, self.offset_factor / s) for s in lattice])
        pos = offset.tanh().permute(0, 2, 3, 4, 1) * limit + \
            self._reference(lattice, offset)
        sampled = F.grid_sample(
            x_grid.reshape(b * g, c // g, *x_grid.shape[2:]), pos.flip(-1),
            mode='bilinear', align_corners=True)  # [B*g, C/g, t', h', w']
        return sampled.reshape(b, c, -1).transpose(1, 2)

    def _attend(self, q: Tensor, sampled: Tensor) -> Tensor:
        """Multi-head attention of ``[B, L, C]`` queries to ``[B, S, C]``
        sampled points; returns ``[B, L, C]`` (before ``proj_out``)."""
        b, _, c = q.shape
        h, d = self.num_heads, c // self.num_heads

        def heads(tokens: Tensor) -> Tensor:  # [B, L, C] -> [B, h, L, d]
            return tokens.reshape(b, -1, h, d).transpose(1, 2)

        attn = (heads(q) * self.scale) @ \
            heads(self.proj_k(sampled)).transpose(-1, -2)
        out = attn.softmax(-1) @ heads(self.proj_v(sampled))
        return out.transpose(1, 2).reshape(b, -1, c)

    def forward_grid(self, x: Tensor) -> Tensor:
        """Attend over a video feature map (ResNet variant).

        Args:
            x (Tensor): ``[B, T, H, W, C]`` (channels last).

        Returns:
            Tensor: ``[B, T, H, W, C]``.
        """
        b, t, h, w, c = x.shape
        self._check_grid(t, h, w)
        q = self.proj_q(x)
        sampled = self._sample(
            q.permute(0, 4, 1, 2, 3), x.permute(0, 4, 1, 2, 3))
        out = self._attend(q.reshape(b, t * h * w, c), sampled)
        return self.proj_out(out).reshape(b, t, h, w, c)

    @staticmethod
    def _reference(shape: Tuple[int, int, int], like: Tensor) -> Tensor:
        """Lattice cell centres ``[t, h, w, 3]`` (z, y, x) in ``[-1, 1]``."""
        axes = [
            torch.linspace(0.5, n - 0.5, n, dtype=like.dtype,
                           device=like.device) / n * 2 - 1 for n in shape
        ]
        return torch.stack(torch.meshgrid(*axes, indexing='ij'), -1)

    def forward(self, x: Tensor, num_frames: int, grid: int) -> Tensor:
        """Attend.

        Args:
            x (Tensor): ``[B*T, 1 + H*W, C]`` tokens, class token first.
            num_frames (int): ``T``.
            grid (int): ``H = W``.

        Returns:
            Tensor: ``[B*T, 1 + H*W, C]``.
        """
        bt, n, c = x.shape
        b, t = bt // num_frames, num_frames
        self._check_grid(t, grid, grid)
        q = self.proj_q(x)

        def video_grid(tokens: Tensor) -> Tensor:  # -> [B, C, T, H, W]
            patches = tokens[:, 1:].reshape(b, t, grid, grid, c)
            return patches.permute(0, 4, 1, 2, 3)

        sampled = self._sample(video_grid(q), video_grid(x))
        # every token of a video's T frames queries the video's S points
        out = self._attend(q.reshape(b, t * n, c), sampled)
        return self.proj_out(out.reshape(bt, n, c))
