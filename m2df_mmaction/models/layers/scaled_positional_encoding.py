# Copyright (c) m2df_mmaction contributors.
"""The scaled sinusoidal positional encoding of HyRSM, HyRSM++ and MoLo (one
module for all three).

Official: ``PositionalEncoder`` of ``models/base/few_shot.py``
(alibaba-mmai-research/MoLo ``f7f73b6``, L1658; the same class in HyRSM's
and HyRSM++'s ``few_shot.py``). It differs from the Transformer sinusoid
in two ways that move MoLo's logits (``tests/data/parity/alibaba/
README.md``, "Sensitivity"):

- the input is scaled by ``sqrt(D / A)`` before the table is added, class
  tokens included, and the table by ``B``;
- the table is ``pe[pos, i] = sin(pos / 10000^(2i/D))`` and
  ``pe[pos, i+1] = cos(pos / 10000^(2(i+1)/D))`` for even ``i`` (the
  exponent counts ``i``, not ``i/2``, and the cosine takes the next
  index's frequency).
"""
import math

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['ScaledPositionalEncoding', 'scaled_sine_table']


def scaled_sine_table(max_len: int, embed_dims: int) -> Tensor:
    """The official table ``[1, max_len, D]`` (float64 math, float32 out).

    Args:
        max_len (int): Number of positions (official: 20).
        embed_dims (int): ``D``, even.

    Returns:
        Tensor: ``[1, max_len, D]`` float32.
    """
    if embed_dims % 2:
        raise ValueError(f'embed_dims must be even, got {embed_dims}.')
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    even = torch.arange(0, embed_dims, 2, dtype=torch.float64)
    table = torch.empty(max_len, embed_dims, dtype=torch.float64)
    table[:, 0::2] = torch.sin(pos / 10000**(2 * even / embed_dims))
    table[:, 1::2] = torch.cos(pos / 10000**(2 * (even + 1) / embed_dims))
    return table.float()[None]


@MODELS.register_module()
class ScaledPositionalEncoding(nn.Module):
    """``dropout(x * sqrt(D / A) + B * pe[:L])`` over the token axis.

    The table is a persistent buffer (``pe``), as in the official state
    dict (``pe.pe`` ``[1, 20, D]``).

    Args:
        embed_dims (int): Token dim ``D``.
        a_scale (float): ``A`` (official ``TRAIN.POSITION_A``; default 10
            when the yaml has none, 2048 in MoLo's Kinetics-100 yamls).
        b_scale (float): ``B`` (``TRAIN.POSITION_B``; default 1, 0.02 in
            MoLo's Kinetics-100 yamls).
        max_len (int): Table length (official 20): at most this many
            tokens (``T + 1`` with MoLo's class token).
        dropout (float): Dropout on the output (official 0.1).
    """

    def __init__(self,
                 embed_dims: int,
                 a_scale: float = 10.0,
                 b_scale: float = 1.0,
                 max_len: int = 20,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.a_scale = a_scale
        self.b_scale = b_scale
        self.input_scale = math.sqrt(embed_dims / a_scale)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pe', scaled_sine_table(max_len, embed_dims))

    def forward(self, x: Tensor) -> Tensor:
        """Encode.

        Args:
            x (Tensor): ``[..., L, D]`` with ``L <= max_len``.

        Returns:
            Tensor: ``[..., L, D]``.
        """
        length = x.size(-2)
        if length > self.pe.size(1):
            raise ValueError(
                f'{length} tokens but the positional table has '
                f'{self.pe.size(1)} positions: raise max_len of '
                f'{type(self).__name__} (official 20, i.e. T + 1 <= 20).')
        pe = self.pe[0, :length].to(x.dtype)
        return self.dropout(x * self.input_scale + self.b_scale * pe)
