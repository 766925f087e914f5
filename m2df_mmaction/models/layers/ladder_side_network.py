# Copyright (c) m2df_mmaction contributors.
"""TS-FSAR's ladder side network (LSN) on a frozen CLIP ViT."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .pca_init import pca_shrink

__all__ = ['LadderSideNetwork', 'SideAttention', 'SideBlock']


class SideAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v projections.

    ``nn.MultiheadAttention`` packs q, k and v into one ``in_proj``; TS-FSAR
    keeps them apart (``trainers/model.py`` ``Attention``: ``q_linear``,
    ``k_linear``, ``v_linear``, ``proj``) and initialises each one from its
    CLIP counterpart, so the side network keeps them apart too.

    Args:
        embed_dims (int): Channels ``C``.
        num_heads (int): Heads.
        qkv_bias (bool): Biases of q, k, v. Defaults to True.
    """

    def __init__(self, embed_dims: int, num_heads: int,
                 qkv_bias: bool = True) -> None:
        super().__init__()
        if num_heads < 1 or embed_dims % num_heads:
            raise ValueError(f'SideAttention: {embed_dims} channels do not '
                             f'split into {num_heads} heads.')
        self.num_heads = num_heads
        self.scale = (embed_dims // num_heads)**-0.5
        self.q = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        self.k = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        self.v = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        """``[B, L, C]`` -> ``[B, L, C]``."""
        heads = [
            f(x).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
            for f in (self.q, self.k, self.v)
        ]
        attn = (heads[0] @ heads[1].transpose(-2, -1)) * self.scale
        out = attn.softmax(-1) @ heads[2]
        return self.proj(out.transpose(1, 2).flatten(2))

    @torch.no_grad()
    def init_from(self, attn: nn.MultiheadAttention) -> None:
        """PCA-shrink a CLIP attention's projections into this one."""
        dims = self.q.in_features
        qkv_w = attn.in_proj_weight.chunk(3)
        qkv_b = attn.in_proj_bias.chunk(3)
        for layer, w, b in zip((self.q, self.k, self.v), qkv_w, qkv_b):
            layer.weight.copy_(pca_shrink(w, dims, dims))
            if layer.bias is not None:
                layer.bias.copy_(pca_shrink(b, dims, dims))
        self.proj.weight.copy_(pca_shrink(attn.out_proj.weight, dims, dims))
        self.proj.bias.copy_(pca_shrink(attn.out_proj.bias, dims, dims))


class SideBlock(nn.Module):
    """A pre-norm ViT block over the tokens of each frame, or over the
    frames of each token (``temporal``: attention across the ``T`` frames of
    a video at every token position; its MLP stays per token).

    Args:
        embed_dims (int): Channels ``C``.
        num_heads (int): Heads.
        mlp_ratio (float): MLP width / ``C``.
        num_frames (int): ``T``, for temporal blocks.
        temporal (bool): Attend across frames. Defaults to False.
    """

    def __init__(self, embed_dims: int, num_heads: int, mlp_ratio: float,
                 num_frames: int, temporal: bool = False) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.temporal = temporal
        self.norm1 = nn.LayerNorm(embed_dims)
        self.attn = SideAttention(embed_dims, num_heads)
        self.norm2 = nn.LayerNorm(embed_dims)
        hidden = int(embed_dims * mlp_ratio)
        self.mlp = nn.Sequential()
        self.mlp.add_module('fc1', nn.Linear(embed_dims, hidden))
        self.mlp.add_module('act', nn.GELU())
        self.mlp.add_module('fc2', nn.Linear(hidden, embed_dims))

    def forward(self, x: Tensor) -> Tensor:
        """``[B*T, L, C]`` -> ``[B*T, L, C]``."""
        if self.temporal:
            t = self.num_frames
            y = x.unflatten(0, (-1, t)).transpose(1, 2)  # [B, L, T, C]
            shape = y.shape
            y = y.flatten(0, 1)
            y = y + self.attn(self.norm1(y))
            x = y.reshape(shape).transpose(1, 2).flatten(0, 1)
        else:
            x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))

    @torch.no_grad()
    def init_from(self, block: nn.Module) -> None:
        """PCA-shrink an open_clip ``ResidualAttentionBlock`` into this
        block (official ``prune_and_initialize``)."""
        dims = self.norm1.normalized_shape[0]
        hidden = self.mlp.fc1.out_features
        self.attn.init_from(block.attn)
        for mine, theirs in ((self.norm1, block.ln_1), (self.norm2,
                                                        block.ln_2)):
            mine.weight.copy_(pca_shrink(theirs.weight, dims, dims))
            mine.bias.copy_(pca_shrink(theirs.bias, dims, dims))
        fc1, fc2 = block.mlp.c_fc, block.mlp.c_proj
        self.mlp.fc1.weight.copy_(pca_shrink(fc1.weight, dims, hidden))
        self.mlp.fc1.bias.copy_(pca_shrink(fc1.bias, dims, hidden))
        self.mlp.fc2.weight.copy_(pca_shrink(fc2.weight, hidden, dims))
        self.mlp.fc2.bias.copy_(pca_shrink(fc2.bias, hidden, dims))


@MODELS.register_module()
class LadderSideNetwork(BaseModule):
    """A narrow ViT beside a frozen CLIP ViT, fed by each of its layers.

    TS-FSAR's LSN (yaozhang0417/TS-FSAR ``trainers/model.py`` ``LSN``, with
    ``REMOVE_PROJ: true`` as in every released config). For the frozen
    tower's hidden states ``h_0`` (after ``ln_pre``) and ``h_1..h_L`` (after
    each block):

    .. math::

        s_0 = D_0(\\mathrm{LN}_0(h_0)), \\qquad
        s_{i+1} = g_i \\, B_i(s_i) + (1 - g_i) \\, D_{i+1}(\\mathrm{LN}_{i+1}
        (h_{i+1})), \\qquad g_i = \\sigma(\\gamma_i / \\tau)

    with ``D_i`` bias-free down-projections ``width -> C``, ``B_i`` the side
    blocks (:class:`SideBlock`, temporal at ``temporal_layers``) and learned
    gates ``γ`` (``GATE_ALPHA`` 0 at first, ``τ = GATE_T``). The tower runs
    without an autograd graph (its owner, :class:`OpenCLIPSide`, calls it
    under ``no_grad``): gradients stop at the down-projections.

    Args:
        in_dims (int): The tower's width (768 for ViT-B/16).
        num_layers (int): Tower blocks ``L`` (one side block each).
        num_frames (int): ``T`` of the temporal blocks.
        embed_dims (int): Side width ``C`` (``LSN.OUTPUT_DIM`` 256).
        num_heads (int, optional): Side heads; defaults to ``C // 64``
            (the official rule).
        mlp_ratio (float): ``LSN.MLP_RATIO``. Defaults to 4.
        temporal_layers (Sequence[int]): ``LSN.TEMP_LAYERS``. Defaults to
            ``(6, 8, 10)``.
        gate_init (float, optional): ``LSN.GATE_ALPHA``; None: no gates,
            ``s_{i+1} = B_i(s_i) + D_{i+1}(...)``. Defaults to 0.
        gate_temperature (float): ``LSN.GATE_T``. Defaults to 0.1.
        with_cp (bool): Checkpoint every ladder step (side block, tower
            state's norm and down-projection, gate). Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_dims: int,
                 num_layers: int,
                 num_frames: int,
                 embed_dims: int = 256,
                 num_heads: Optional[int] = None,
                 mlp_ratio: float = 4.0,
                 temporal_layers: Sequence[int] = (6, 8, 10),
                 gate_init: Optional[float] = 0.0,
                 gate_temperature: float = 0.1,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        bad = [i for i in temporal_layers if not 0 <= i < num_layers]
        if bad:
            raise ValueError(
                f'LadderSideNetwork: temporal_layers {bad} are not side '
                f'blocks of a {num_layers}-block tower (0..{num_layers - 1}).')
        self.in_dims = in_dims
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        self.with_cp = with_cp
        heads = num_heads or max(embed_dims // 64, 1)
        self.norms = nn.ModuleList(
            nn.LayerNorm(in_dims) for _ in range(num_layers + 1))
        self.downsamples = nn.ModuleList(
            nn.Linear(in_dims, embed_dims, bias=False)
            for _ in range(num_layers + 1))
        self.blocks = nn.ModuleList(
            SideBlock(embed_dims, heads, mlp_ratio, num_frames,
                      temporal=i in temporal_layers)
            for i in range(num_layers))
        self.gate_temperature = gate_temperature
        self.gates = nn.Parameter(torch.full(
            (num_layers, ), float(gate_init))) if gate_init is not None \
            else None

    def enter(self, hidden: Tensor) -> Tensor:
        """``s_0`` from ``h_0`` ``[B*T, L, width]`` -> ``[B*T, L, C]``."""
        return self.downsamples[0](self.norms[0](hidden))

    def step(self, i: int, side: Tensor, hidden: Tensor) -> Tensor:
        """``s_{i+1}`` from ``s_i`` and the tower's ``h_{i+1}``.

        With ``with_cp`` the whole step is checkpointed, not only the side
        block: the LayerNorm and down-projection of the 768-wide tower
        state keep their inputs otherwise (214 -> 128 MiB per ViT-B/16
        video, ``benchmarks/frozen_costs.py``).
        """
        if self.with_cp and torch.is_grad_enabled():
            return checkpoint(self._step, i, side, hidden, use_reentrant=False)
        return self._step(i, side, hidden)

    def _step(self, i: int, side: Tensor, hidden: Tensor) -> Tensor:
        out = self.blocks[i](side)
        down = self.downsamples[i + 1](self.norms[i + 1](hidden))
        if self.gates is None:
            return out + down
        gate = torch.sigmoid(self.gates[i] / self.gate_temperature)
        return gate * out + (1 - gate) * down

    @torch.no_grad()
    def init_from_tower(self, blocks: Sequence[nn.Module]) -> None:
        """Initialise side block ``i`` from tower block ``i`` by PCA
        (official ``prune_and_initialize``; the norms, down-projections and
        gates keep their own init)."""
        for mine, theirs in zip(self.blocks, blocks):
            mine.init_from(theirs)
