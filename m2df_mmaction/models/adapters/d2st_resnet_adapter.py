# Copyright (c) m2df_mmaction contributors.
"""The D²ST adapter of D2ST-Adapter's ResNet variant, after a ResNet stage."""
from typing import Optional, Tuple

from mmaction.registry import MODELS
from torch import Tensor

from .d2st_adapter import D2STAdapter

__all__ = ['D2STResNetAdapter']

# The official per-stage attentions (qizhongtan/D2ST-Adapter
# models/base/adapter.py ResNet_D2ST_Adapter.__init__, chosen there by the
# stage's width against ADAPTER.WIDTH: /8, /4, /2, /1): heads (= offset
# groups), spatial kernel and stride, temporal kernel and stride, written
# for 8 frames and 224 px (grids 56, 28, 14, 7).
OFFICIAL_STAGES = {
    0: (1, (4, 7, 7), (4, 7, 7), (1, 14, 14), (1, 14, 14)),
    1: (2, (4, 7, 7), (4, 7, 7), (1, 14, 14), (1, 14, 14)),
    2: (4, (4, 5, 5), (4, 3, 3), (1, 7, 7), (1, 7, 7)),
    3: (8, (4, 4, 4), (4, 3, 3), (1, 7, 7), (1, 7, 7)),
}


@MODELS.register_module()
class D2STResNetAdapter(D2STAdapter):
    """Disentangled-and-deformable spatio-temporal adapter after a ResNet
    stage.

    On the stage's output ``x`` (``[B*T, C, H, W]``, per video of ``T``
    frames), channels last:

    1. ``z = down(x)``, ``C -> C * scale`` channels (no activation, unlike
       the ViT adapter);
    2. ``z = z + pos_embed(z)``, a depthwise 3x3x3 convolution over the
       video's ``[T, H, W]`` grid;
    3. ``z_s = z + A_s(LN_s(z))``, ``z_t = z + A_t(LN_t(z))``: spatial and
       temporal deformable attention (:class:`DeformableAttention3D`,
       :meth:`~DeformableAttention3D.forward_grid`);
    4. ``x + up(GELU((z_s + z_t) / 2))`` (no activation after ``up``).

    The modules are :class:`D2STAdapter`'s (same names, so the same
    official key mapping); ``up`` starts at zero. The official module:
    qizhongtan/D2ST-Adapter
    ``models/base/adapter.py`` ``ResNet_D2ST_Adapter`` (``1x1x1``
    convolutions, linear layers here), placed after each of the four
    stages of a torchvision ResNet (``ResNet.get_feat``).

    Args:
        embed_dims (int): Stage width ``C`` (filled in by the encoder).
        num_frames (int): ``T`` (filled in by the encoder).
        stage (int): Stage index 0-3 (filled in by the encoder): picks the
            official attention settings of that stage for every setting
            left None.
        scale (float): Bottleneck width ratio (``ADAPTER.ADAPTER_SCALE``).
            Defaults to 0.25.
        num_heads (int, optional): Heads and offset groups of both
            attentions.
        spatial_kernel, spatial_stride, temporal_kernel, temporal_stride
            (tuple[int], optional): Offset kernels and strides
            (:class:`DeformableAttention3D`).
        zero_init (bool): Start ``up`` at zero. Defaults to True.
    """

    attach_to = 'stage'

    def __init__(self,
                 embed_dims: int,
                 num_frames: int,
                 stage: int,
                 scale: float = 0.25,
                 num_heads: Optional[int] = None,
                 spatial_kernel: Optional[Tuple[int, int, int]] = None,
                 spatial_stride: Optional[Tuple[int, int, int]] = None,
                 temporal_kernel: Optional[Tuple[int, int, int]] = None,
                 temporal_stride: Optional[Tuple[int, int, int]] = None,
                 zero_init: bool = True) -> None:
        if stage not in OFFICIAL_STAGES:
            raise ValueError(f'D2STResNetAdapter: stage={stage}; a ResNet '
                             'has stages 0-3.')
        heads, s_kernel, s_stride, t_kernel, t_stride = \
            OFFICIAL_STAGES[stage]
        heads = num_heads or heads
        # the ViT adapter's modules (same names, so same official keys);
        # only the arithmetic of adapt() differs
        super().__init__(embed_dims, num_frames, scale, heads, heads,
                         spatial_kernel or s_kernel, spatial_stride
                         or s_stride, temporal_kernel or t_kernel,
                         temporal_stride or t_stride, zero_init)
        self.stage = stage

    def adapt(self, output: Tensor, inputs: Optional[Tensor] = None) -> Tensor:
        """Adapt a stage's output ``[B*T, C, H, W]`` (same shape)."""
        if output.dim() != 4 or output.shape[0] % self.num_frames:
            raise ValueError(
                f'D2STResNetAdapter adapts [B*T, C, H, W] feature maps of '
                f'videos of num_frames={self.num_frames} frames, got shape '
                f'{tuple(output.shape)}.')
        bt, c, h, w = output.shape
        t = self.num_frames
        x = output.reshape(bt // t, t, c, h, w).permute(0, 1, 3, 4, 2)
        z = self.down(x)  # [B, T, H, W, c']
        z = z + self.pos_embed(z.permute(0, 4, 1, 2, 3)).permute(
            0, 2, 3, 4, 1)
        zs = z + self.s_attn.forward_grid(self.s_ln(z))
        zt = z + self.t_attn.forward_grid(self.t_ln(z))
        z = self.up(self.act((zs + zt) / 2))  # [B, T, H, W, C]
        return output + z.permute(0, 1, 4, 2, 3).reshape(bt, c, h, w)
