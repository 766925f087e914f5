# Copyright (c) m2df_mmaction contributors.
"""Multi-modal fusion of CLIP-M2DF (MMFE): a prompt-conditioned
cross-transformer.

The query stream is ``[prompt; context]`` (context = local or global
temporal features) and the key/value stream is ``[prompt; raw frames]``.
Each layer is

.. math::

    X &= \\mathrm{MHA}(\\mathrm{LN}(Q), \\mathrm{LN}(K), \\mathrm{LN}(K)) + Q
    \\\\
    Y &= \\mathrm{FFN}(X) + X

with one LayerNorm shared by queries, keys and values, no positional
encoding, and the residual on the un-normalised query stream.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['CrossTransformerFusion', 'PreNormCrossAttention']


class PreNormCrossAttention(nn.Module):
    """Multi-head cross-attention with one LayerNorm shared by q, k and v.

    Args:
        embed_dims (int): Token dim ``D``.
        num_heads (int): Number of heads.
        head_dims (int): Dim of each head.
        proj_drop (float): Dropout after the output projection.
        attn_drop (float): Dropout on the attention weights.
    """

    def __init__(self, embed_dims: int, num_heads: int, head_dims: int,
                 proj_drop: float, attn_drop: float) -> None:
        super().__init__()
        inner = num_heads * head_dims
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.norm = nn.LayerNorm(embed_dims)
        self.to_q = nn.Linear(embed_dims, inner, bias=False)
        self.to_k = nn.Linear(embed_dims, inner, bias=False)
        self.to_v = nn.Linear(embed_dims, inner, bias=False)
        self.to_out = nn.Sequential(
            nn.Linear(inner, embed_dims), nn.Dropout(proj_drop))

    def _split_heads(self, x: Tensor) -> Tensor:
        """``[B, L, H * d]`` -> ``[B, H, L, d]``."""
        return x.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)

    def forward(self, query: Tensor, key_value: Tensor) -> Tensor:
        """Attend.

        Args:
            query (Tensor): ``[B, Lq, D]``.
            key_value (Tensor): ``[B, Lk, D]``.

        Returns:
            Tensor: ``query + attention`` ``[B, Lq, D]``.
        """
        q = self._split_heads(self.to_q(self.norm(query)))
        kv = self.norm(key_value)
        k = self._split_heads(self.to_k(kv))
        v = self._split_heads(self.to_v(kv))
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        return query + self.to_out(out.transpose(1, 2).flatten(2))


@MODELS.register_module()
class CrossTransformerFusion(nn.Module):
    """Prompt-conditioned cross-transformer (the MMFE block of CLIP-M2DF).

    Defaults follow the official ``Transformer_v1``: 8 heads of dim
    ``D / 8``, no qkv bias, output Linear then dropout 0.2, FFN
    ``Linear(D, 2048) -> GELU -> Dropout(0.05) -> Linear(2048, D) ->
    Dropout(0.05)`` (no LayerNorm before the FFN), depth 1. With depth > 1
    the query stream is updated layer by layer while the keys and values
    stay ``[prompt; frames]``.

    Token convention: when a prompt is given it is prepended to both
    streams and the output has ``1 + T`` tokens; **row 0 is the prompt
    token's output** (the "text part" the distillation's text confidence
    uses; the official code mistakenly takes row 1, the first frame token)
    and rows ``1:`` are the frame tokens used for matching. Without a prompt
    the output has ``T`` frame tokens only.

    Args:
        embed_dims (int): Token dim ``D``.
        num_heads (int): Number of heads. Defaults to 8.
        head_dims (int, optional): Dim of each head. Defaults to
            ``embed_dims // num_heads``.
        ffn_dims (int): FFN hidden width. Defaults to 2048 (whatever ``D``,
            as the official code).
        depth (int): Number of layers. Defaults to 1.
        proj_drop (float): Dropout after the attention output projection.
            Defaults to 0.2.
        ffn_drop (float): Dropout inside and after the FFN. Defaults to 0.05.
        attn_drop (float): Dropout on attention weights. Defaults to 0.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int = 8,
                 head_dims: Optional[int] = None,
                 ffn_dims: int = 2048,
                 depth: int = 1,
                 proj_drop: float = 0.2,
                 ffn_drop: float = 0.05,
                 attn_drop: float = 0.0) -> None:
        super().__init__()
        if head_dims is None:
            if embed_dims % num_heads:
                raise ValueError(f'embed_dims {embed_dims} is not divisible '
                                 f'by num_heads {num_heads}')
            head_dims = embed_dims // num_heads
        self.embed_dims = embed_dims
        self.attns = nn.ModuleList()
        self.ffns = nn.ModuleList()
        for _ in range(depth):
            self.attns.append(
                PreNormCrossAttention(embed_dims, num_heads, head_dims,
                                      proj_drop, attn_drop))
            self.ffns.append(
                nn.Sequential(
                    nn.Linear(embed_dims, ffn_dims), nn.GELU(),
                    nn.Dropout(ffn_drop), nn.Linear(ffn_dims, embed_dims),
                    nn.Dropout(ffn_drop)))

    def forward(self,
                context: Tensor,
                frames: Tensor,
                prompt: Optional[Tensor] = None) -> Tensor:
        """Fuse.

        Args:
            context (Tensor): Query-stream features ``[..., T, D]`` (local or
                global temporal context).
            frames (Tensor): Raw frame features for keys/values
                ``[..., Tk, D]`` (usually ``Tk = T``); leading dims as
                ``context``.
            prompt (Tensor, optional): Prompt embedding ``[..., D]``
                prepended to both streams. Defaults to None.

        Returns:
            Tensor: ``[..., 1 + T, D]`` with the prompt token's output in row
            0, or ``[..., T, D]`` when ``prompt`` is None.
        """
        lead = context.shape[:-2]
        query = context.reshape(-1, *context.shape[-2:])
        key_value = frames.reshape(-1, *frames.shape[-2:])
        if prompt is not None:
            token = prompt.reshape(-1, 1, prompt.size(-1))
            query = torch.cat([token.to(query.dtype), query], 1)
            key_value = torch.cat([token.to(key_value.dtype), key_value], 1)
        for attn, ffn in zip(self.attns, self.ffns):
            query = attn(query, key_value)
            query = query + ffn(query)
        return query.reshape(*lead, *query.shape[-2:])
