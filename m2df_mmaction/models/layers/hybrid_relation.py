# Copyright (c) m2df_mmaction contributors.
"""HyRSM's hybrid relation module (Wang et al., CVPR 2022).

Official code: alibaba-mmai-research/HyRSM ``models/base/few_shot.py``
(commit 82100b6): ``CNN_HyRSM_1shot.get_feats`` (L652–752),
``PositionalEncoder`` (L621), ``PreNormattention`` (L31), ``Attention``
(L48), ``MultiHeadAttention`` (L557) and ``ScaledDotProductAttention``
(L538); HyRSM++ (alibaba-mmai-research/HyRSMPlusPlus) uses the same
module. Two steps:

1. **Intra-relation** (:meth:`HybridRelation.intra_video`), per video:
   ``ReLU(x' + MHA(LN(x')))`` with ``x' = x * sqrt(D / A) + B * pe[:T]``:
   HyRSM's positional encoding, then pre-norm multi-head self-attention over
   the ``T`` frames with a residual.
2. **Inter-relation** (:meth:`HybridRelation.inter_video`), per query: the
   temporal means of the episode's ``n`` support videos (or prototypes) and
   of the query form a set of ``n + 1`` tokens; post-norm multi-head
   attention over the set, then ReLU, gives one context vector per video;
   each frame is concatenated with its video's context and mapped back to
   ``D`` by a 1×1 ``Conv1d(2D, D)``. The supports therefore get one
   representation per query: ``[.., M, n, T, D]``.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

from .cross_transformer import PreNormCrossAttention
from .scaled_positional_encoding import ScaledPositionalEncoding

__all__ = ['HybridRelation', 'SetRelationAttention']


@MODELS.register_module()
class SetRelationAttention(nn.Module):
    """Post-norm multi-head attention over a set of video tokens
    (official ``MultiHeadAttention`` + ``ScaledDotProductAttention``):
    ``LN(x + dropout(fc(softmax(q k^T / sqrt(d_k)) v)))``, ``q, k, v``
    maps without bias, attention dropout on the weights.

    ``nn.MultiheadAttention`` cannot hold these weights: its single
    ``bias`` flag ties the (absent) q/k/v biases to the (present) output
    bias, and it has no post-norm; so the module is written out here, with
    the official initialisation (``w_q, w_k`` normal with std
    ``sqrt(2 / (D + d_k))``, ``w_v`` with ``sqrt(2 / (D + d_v))``, the
    output map Xavier-normal).

    Args:
        embed_dims (int): ``D``.
        num_heads (int): Heads (official 8, ``TRAIN.HEAD``).
        head_dims (int, optional): ``d_k = d_v``; ``D // num_heads`` if
            None.
        attn_drop (float): Dropout on the attention weights (official 0.1).
        proj_drop (float): Dropout after the output map (official 0.05).
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int = 8,
                 head_dims: Optional[int] = None,
                 attn_drop: float = 0.1,
                 proj_drop: float = 0.05) -> None:
        super().__init__()
        head_dims = head_dims or embed_dims // num_heads
        inner = num_heads * head_dims
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.to_q = nn.Linear(embed_dims, inner, bias=False)
        self.to_k = nn.Linear(embed_dims, inner, bias=False)
        self.to_v = nn.Linear(embed_dims, inner, bias=False)
        self.to_out = nn.Linear(inner, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        self.norm = nn.LayerNorm(embed_dims)
        std = math.sqrt(2.0 / (embed_dims + head_dims))
        for linear in (self.to_q, self.to_k, self.to_v):
            nn.init.normal_(linear.weight, mean=0.0, std=std)
        nn.init.xavier_normal_(self.to_out.weight)

    def forward(self, x: Tensor) -> Tensor:
        """Self-attention over the set: ``[B, L, D]`` -> ``[B, L, D]``."""
        q, k, v = (
            lin(x).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
            for lin in (self.to_q, self.to_k, self.to_v))
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        out = self.proj_drop(self.to_out(out.transpose(1, 2).flatten(2)))
        return self.norm(out + x)


@MODELS.register_module()
class HybridRelation(nn.Module):
    """HyRSM's hybrid relation module: intra- then inter-video relations
    (module docstring).

    Args:
        embed_dims (int): Frame feature dim ``D`` (the official code has no
            argument: 2048 for a ResNet-50, else 512).
        num_heads (int): Heads of both attentions (official 8, or
            ``TRAIN.HEAD``; ``D // num_heads`` per head).
        a_scale (float): PE input scale ``A`` (official 10; the K100 yamls'
            ``TRAIN.POSITION_A`` 2048).
        b_scale (float): PE table scale ``B`` (official 1; K100 0.01).
        max_len (int): PE table length (official 20).
        pe_drop (float): Dropout after the PE (official 0.1).
        intra_drop (float): Dropout after the self-attention's output map
            (official ``Attention(dropout=0.2)``).
        inter_attn_drop (float): Dropout on the set attention's weights
            (official 0.1).
        inter_drop (float): Dropout after the set attention's output map
            (official 0.05).
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int = 8,
                 a_scale: float = 10.0,
                 b_scale: float = 1.0,
                 max_len: int = 20,
                 pe_drop: float = 0.1,
                 intra_drop: float = 0.2,
                 inter_attn_drop: float = 0.1,
                 inter_drop: float = 0.05) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'HybridRelation: embed_dims {embed_dims} is '
                             f'not divisible by num_heads {num_heads}.')
        self.embed_dims = embed_dims
        self.pe = ScaledPositionalEncoding(embed_dims, a_scale, b_scale,
                                           max_len, pe_drop)
        self.intra = PreNormCrossAttention(
            embed_dims, num_heads, embed_dims // num_heads,
            proj_drop=intra_drop, attn_drop=0.0)
        self.inter = SetRelationAttention(
            embed_dims, num_heads, attn_drop=inter_attn_drop,
            proj_drop=inter_drop)
        # 1x1 Conv1d over [frame; video context] (official ``layer2``),
        # kept a Conv1d so official weights load as they are
        self.fuse = nn.Conv1d(2 * embed_dims, embed_dims, kernel_size=1)

    def intra_video(self, frames: Tensor) -> Tensor:
        """Positional encoding, pre-norm frame self-attention, ReLU.

        Args:
            frames (Tensor): ``[..., T, D]`` per-frame features.

        Returns:
            Tensor: ``[..., T, D]``.
        """
        x = self.pe(frames.flatten(0, -3))
        return F.relu(self.intra(x, x)).view(frames.shape)

    def _fuse(self, frames: Tensor, context: Tensor) -> Tensor:
        """``Conv1d_1x1([frames; context])`` without building the
        concatenation: ``W_f frames + (W_c context + b)``.

        Args:
            frames (Tensor): ``[..., T, D]``.
            context (Tensor): ``[..., D]``; leading dims broadcast with
                those of ``frames`` (supports: frames ``[B, 1, n, T, D]``
                and one context per query ``[B, M, n, D]``, so the frame
                term is computed once per video, not once per query as in
                the official code: the same numbers up to rounding).

        Returns:
            Tensor: ``[..., T, D]``.
        """
        weight = self.fuse.weight.squeeze(-1)  # a 1x1 conv is a linear map
        frame_w, context_w = weight.split(self.embed_dims, dim=1)
        return F.linear(frames, frame_w) + F.linear(
            context, context_w, self.fuse.bias).unsqueeze(-2)

    def inter_video(self, support: Tensor,
                    query: Tensor) -> Tuple[Tensor, Tensor]:
        """Relate each query to the episode's supports.

        Args:
            support (Tensor): ``[B, n, T, D]`` (intra-related) support
                videos or class prototypes of each episode.
            query (Tensor): ``[B, M, T, D]`` intra-related queries.

        Returns:
            tuple[Tensor, Tensor]: The supports as seen from each query
            ``[B, M, n, T, D]`` and the queries ``[B, M, T, D]``.
        """
        batch, num_support = support.shape[:2]
        num_query = query.shape[1]
        tokens = torch.cat([
            support.mean(2).unsqueeze(1).expand(-1, num_query, -1, -1),
            query.mean(2).unsqueeze(2)
        ], dim=2)  # [B, M, n + 1, D]
        context = F.relu(self.inter(tokens.flatten(0, 1))).view(
            batch, num_query, num_support + 1, -1)
        support = self._fuse(support.unsqueeze(1), context[:, :, :-1])
        return support, self._fuse(query, context[:, :, -1])

    def forward(self, support: Tensor,
                query: Tensor) -> Tuple[Tensor, Tensor]:
        """Both steps: :meth:`intra_video` on every video, then
        :meth:`inter_video` (supports ``[B, n, T, D]``, queries
        ``[B, M, T, D]`` -> ``[B, M, n, T, D]``, ``[B, M, T, D]``)."""
        return self.inter_video(
            self.intra_video(support), self.intra_video(query))
