# Copyright (c) m2df_mmaction contributors.
"""The D²ST adapter (Pei et al., D2ST-Adapter, ICCV 2025) for ViT blocks."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from .base_adapter import BaseAdapter, check_video_tokens
from .deformable_attention import DeformableAttention3D

__all__ = ['D2STAdapter']


@MODELS.register_module()
class D2STAdapter(BaseAdapter):
    """Disentangled-and-deformable spatio-temporal adapter after a ViT block.

    On the block's output ``x`` (``[B*T, 1 + H*W, C]``, per video of ``T``
    frames):

    1. ``z = GELU(down(x))``, ``C -> C * scale`` channels;
    2. a depthwise 3x3x3 convolution over each video's patch grid added to
       the patch tokens (position embedding; the class token skips it);
    3. two deformable attentions (:class:`DeformableAttention3D`), each
       pre-normed and residual: a spatial one (dense lattice in space,
       sparse in time) and a temporal one (every frame, sparse in space):
       ``z_s = z + A_s(LN_s(z))``, ``z_t = z + A_t(LN_t(z))``;
    4. ``x + GELU(up(GELU((z_s + z_t) / 2)))``.

    ``up`` starts at zero (:meth:`init_weights`), so the adapted encoder
    starts as the pretrained one. The official ViT variant:
    qizhongtan/D2ST-Adapter ``models/base/adapter.py`` ``ViT_D2ST_Adapter``
    (``ADAPTER.ADAPTER_SCALE`` 0.25; 4 heads and 4 offset groups in both
    attentions, the kernels and strides below, written for 8 frames of a
    14x14 grid), attached after every residual block
    (``ResidualAttentionBlock.forward``).

    Args:
        embed_dims (int): Block width ``C`` (filled in by the encoder).
        num_frames (int): ``T`` (filled in by the encoder).
        scale (float): Bottleneck width ratio. Defaults to 0.25.
        num_heads (int): Heads of both attentions. Defaults to 4.
        num_groups (int): Offset groups of both attentions. Defaults to 4.
        spatial_kernel (tuple[int]): Offset kernel of the spatial
            attention. Defaults to (4, 5, 5).
        spatial_stride (tuple[int]): Its stride. Defaults to (4, 3, 3).
        temporal_kernel (tuple[int]): Offset kernel of the temporal
            attention. Defaults to (1, 7, 7).
        temporal_stride (tuple[int]): Its stride. Defaults to (1, 7, 7).
        zero_init (bool): Start ``up`` at zero. Defaults to True.
    """

    attach_to = 'block'

    def __init__(self,
                 embed_dims: int,
                 num_frames: int,
                 scale: float = 0.25,
                 num_heads: int = 4,
                 num_groups: int = 4,
                 spatial_kernel: Tuple[int, int, int] = (4, 5, 5),
                 spatial_stride: Tuple[int, int, int] = (4, 3, 3),
                 temporal_kernel: Tuple[int, int, int] = (1, 7, 7),
                 temporal_stride: Tuple[int, int, int] = (1, 7, 7),
                 zero_init: bool = True) -> None:
        super().__init__(embed_dims, num_frames)
        dims = int(embed_dims * scale)
        self.zero_init = zero_init
        self.down = nn.Linear(embed_dims, dims)
        self.pos_embed = nn.Conv3d(dims, dims, 3, padding=1, groups=dims)
        self.s_ln = nn.LayerNorm(dims)
        self.s_attn = DeformableAttention3D(dims, num_heads, num_groups,
                                            spatial_kernel, spatial_stride)
        self.t_ln = nn.LayerNorm(dims)
        self.t_attn = DeformableAttention3D(dims, num_heads, num_groups,
                                            temporal_kernel, temporal_stride)
        self.up = nn.Linear(dims, embed_dims)
        self.act = nn.GELU()
        self.init_weights()

    def init_weights(self) -> None:
        """Zero ``up`` (the adapter starts as the identity)."""
        if self.zero_init:
            nn.init.zeros_(self.up.weight)
            nn.init.zeros_(self.up.bias)

    def adapt(self, output: Tensor, inputs: Optional[Tensor] = None) -> Tensor:
        """Adapt a block's output ``[B*T, 1 + H*W, C]`` (same shape)."""
        grid = check_video_tokens(output, self.num_frames, 'D2STAdapter')
        z = self.act(self.down(output))
        bt, n, c = z.shape
        patches = z[:, 1:].reshape(bt // self.num_frames, self.num_frames,
                                   grid, grid, c).permute(0, 4, 1, 2, 3)
        patches = patches + self.pos_embed(patches)
        patches = patches.permute(0, 2, 3, 4, 1).reshape(bt, n - 1, c)
        z = torch.cat([z[:, :1], patches], dim=1)
        zs = z + self.s_attn(self.s_ln(z), self.num_frames, grid)
        zt = z + self.t_attn(self.t_ln(z), self.num_frames, grid)
        return output + self.act(self.up(self.act((zs + zt) / 2)))
