# Copyright (c) m2df_mmaction contributors.
"""TRX's temporal cross transformer: query tuples attend over class tuples.

TRX (Perrett et al., CVPR 2021) compares a query video with a class through
*ordered tuples* of frames: every ``s``-frame subsequence
``(t_1 < ... < t_s)`` of each video is one token (its frames'
features concatenated). For one cardinality ``s``, per class, every query
tuple attends over all the tuples of all the class's supports, building a
query-specific prototype tuple; the distance is the mean squared distance
between the query's tuples and their prototypes. Reference: the official
``TemporalCrossTransformer`` and ``PositionalEncoding`` of
alibaba-mmai-research/MoLo ``models/base/few_shot.py`` (L1204-1328, at
``f7f73b6``; byte-identical in CLIP-FSAR, HyRSM and HyRSMPlusPlus), and
tobyperrett/trx ``model.py`` (the original, with the same numbers).
"""
import math
from itertools import combinations
from typing import Dict, Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .bimhm import FrameMatches

__all__ = ['TemporalCrossTransformer', 'sinusoid_table']


def sinusoid_table(length: int, dims: int, scale: float) -> Tensor:
    """The scaled sinusoid positional encoding of TRX, ``[length, dims]``.

    ``pe[t, 2i] = scale * sin(t * w_i)`` and ``pe[t, 2i+1] = scale *
    cos(t * w_i)`` with ``w_i = exp(-2i * ln(1e4) / dims)``, evaluated in
    float32 in the official order of operations, so the table equals the
    official ``PositionalEncoding.pe`` buffer (few_shot.py L1213-1223) bit
    for bit.
    """
    position = torch.arange(length).unsqueeze(1)
    freqs = torch.exp(
        torch.arange(0, dims, 2) * -(math.log(10000.0) / dims))
    table = torch.zeros(length, dims)
    table[:, 0::2] = torch.sin(position * freqs) * scale
    table[:, 1::2] = torch.cos(position * freqs[:dims // 2]) * scale
    return table


@MODELS.register_module()
class TemporalCrossTransformer(nn.Module):
    """Temporal cross transformer of one tuple cardinality (TRX).

    Steps, for supports ``[B, N*K, T, D]`` (way-major) and queries
    ``[B, M, T, D]``:

    1. ``x + pe[:T]`` (scaled sinusoid, :func:`sinusoid_table`), then
       dropout (official ``PositionalEncoding``, L1204-1223);
    2. the ``P = C(T, s)`` ordered tuples of ``s`` frames
       (``itertools.combinations``, L1256-1258), each ``[s*D]``;
    3. keys ``LayerNorm(k_linear(tuple))`` and values ``v_linear(tuple)``
       (L1276-1286; the official ``norm_v`` is built but never used, so it
       is not built here);
    4. per class ``c``: ``A = softmax(q_k k_c^T / sqrt(O))`` of each query
       tuple over the ``K*P`` tuples of all the class's supports jointly
       (L1300-1307), prototype ``A v_c`` (L1311-1312), distance
       ``||q_v - A v_c||_F^2 / P`` (L1315-1317).

    The matching (after the linear maps) runs in float32 (float64 for
    float64 inputs), also under autocast.

    Args:
        embed_dims (int): Frame feature dim ``D`` (official
            ``trans_linear_in_dim``: 2048 for a ResNet-50, else 512,
            L1237-1240; here it comes from the encoder).
        num_frames (int): ``T``; the tuple indices are built from it.
            Defaults to 8 (``DATA.NUM_INPUT_FRAMES`` of every official
            yaml).
        cardinality (int): Frames per tuple ``s`` (official
            ``temporal_set_size``; ``CNN_TRX`` uses 2 and 3, L1339).
            Must be at most ``num_frames``. Defaults to 3.
        out_dims (int): Key/value width ``O`` (official
            ``trans_linear_out_dim = 1152``, hard-coded in ``CNN_TRX``,
            L1338). Defaults to 1152.
        pe_scale (float): Scale of the sinusoid (official
            ``pe_scale_factor = 0.1``, L1208). Defaults to 0.1.
        pe_length (int, optional): Rows of the positional table (official
            ``int(1.5 * NUM_INPUT_FRAMES)``, L1244); at least
            ``num_frames``. Defaults to None (``int(1.5 * num_frames)``).
        dropout (float): Dropout after the positional encoding (official
            ``trans_dropout = 0.1``, L1340). Defaults to 0.1.

    Raises:
        ValueError: ``cardinality`` larger than ``num_frames`` (no tuple
            of that many frames exists) or below 1, or a positional table
            shorter than ``num_frames``.
    """

    def __init__(self,
                 embed_dims: int,
                 num_frames: int = 8,
                 cardinality: int = 3,
                 out_dims: int = 1152,
                 pe_scale: float = 0.1,
                 pe_length: Optional[int] = None,
                 dropout: float = 0.1) -> None:
        super().__init__()
        if not 1 <= cardinality <= num_frames:
            raise ValueError(
                f'TemporalCrossTransformer: cardinality {cardinality} does '
                f'not fit num_frames={num_frames} (T): tuples of '
                f'{cardinality} ordered frames need 1 <= cardinality <= T. '
                'Lower the cardinalities of the TRX head (option '
                '`cardinalities`) or sample more frames per video (the '
                "pipeline's clip_len/num_clips and the head's num_frames).")
        pe_length = int(1.5 * num_frames) if pe_length is None else pe_length
        if pe_length < num_frames:
            raise ValueError(
                f'TemporalCrossTransformer: pe_length={pe_length} is shorter'
                f' than num_frames={num_frames}; use pe_length >= T (or None'
                ' for the official int(1.5 * T)).')
        self.embed_dims = embed_dims
        self.num_frames = num_frames
        self.cardinality = cardinality
        self.out_dims = out_dims
        # the table and the tuples are functions of the options: rebuilt,
        # not stored (official_keys_trx drops the official copies)
        self.register_buffer(
            'pe', sinusoid_table(pe_length, embed_dims, pe_scale),
            persistent=False)
        self.register_buffer(
            'tuples',
            torch.tensor(list(combinations(range(num_frames), cardinality))),
            persistent=False)  # [P, s]
        self.dropout = nn.Dropout(dropout)
        self.k_linear = nn.Linear(embed_dims * cardinality, out_dims)
        self.v_linear = nn.Linear(embed_dims * cardinality, out_dims)
        self.norm_k = nn.LayerNorm(out_dims)

    @property
    def num_tuples(self) -> int:
        """int: ``P = C(T, s)``."""
        return self.tuples.shape[0]

    def _keys_values(self, frames: Tensor):
        """``[B, V, T, D]`` -> keys and values ``[B, V, P, O]``."""
        if frames.shape[-2] != self.num_frames:
            raise ValueError(
                f'TemporalCrossTransformer was built for num_frames='
                f'{self.num_frames} and got videos of {frames.shape[-2]} '
                "frames: set the TRX head's num_frames to the pipeline's "
                'frames per video.')
        frames = self.dropout(frames + self.pe[:self.num_frames].to(
            frames.dtype))
        tuples = frames[..., self.tuples, :].flatten(-2)  # [B, V, P, s*D]
        return self.norm_k(self.k_linear(tuples)), self.v_linear(tuples)

    def forward(self, support: Tensor, query: Tensor,
                num_ways: int) -> Dict[str, Tensor]:
        """Distances of each query to each class.

        Args:
            support (Tensor): ``[B, N*K, T, D]``, way-major.
            query (Tensor): ``[B, M, T, D]``.
            num_ways (int): N.

        Returns:
            dict[str, Tensor]: ``distances`` ``[B, M, N]`` (float32 or
            float64) and
            ``attention`` ``[B, M, N, P, K*P]``: the softmax of each query
            tuple over the class's support tuples (shot-major: column
            ``k*P + p`` is tuple ``p`` of shot ``k``).
        """
        batch = support.shape[0]
        support_k, support_v = self._keys_values(support)
        query_k, query_v = self._keys_values(query)
        dtype = torch.promote_types(query_k.dtype, torch.float32)
        with torch.autocast(device_type=query.device.type, enabled=False):
            # [B, N, K*P, O]: the tuples of all the shots of a class
            support_k = support_k.to(dtype).reshape(batch, num_ways, -1,
                                                    self.out_dims)
            support_v = support_v.to(dtype).reshape(batch, num_ways, -1,
                                                    self.out_dims)
            query_k, query_v = query_k.to(dtype), query_v.to(dtype)
            scores = torch.einsum('bmpo,bnso->bmnps', query_k,
                                  support_k) / math.sqrt(self.out_dims)
            attention = scores.softmax(-1)  # [B, M, N, P, K*P]
            prototypes = torch.einsum('bmnps,bnso->bmnpo', attention,
                                      support_v)
            diff = query_v.unsqueeze(2) - prototypes  # [B, M, N, P, O]
            # the official squares the Frobenius norm (L1316); summing
            # the squares instead moves the distances by ~1e-5 in float32
            distances = torch.linalg.vector_norm(
                diff, dim=(-2, -1)).pow(2) / self.num_tuples
        return dict(distances=distances, attention=attention)

    def frame_attention(self, attention: Tensor) -> Tensor:
        """Spread the tuple attention onto frame pairs.

        A query tuple attending to a support tuple pairs their frames
        position by position (the ``r``-th frame of one with the ``r``-th of
        the other). Summed over all tuples and over the class's shots, and
        divided by the ``C(T-1, s-1)`` tuples each query frame belongs to,
        each query frame's row is a distribution over the support frames.

        Args:
            attention (Tensor): ``[B, M, N, P, K*P]`` (:meth:`forward`).

        Returns:
            Tensor: ``[B, M, N, T, T]`` (query frames by support frames),
            rows summing to 1; no gradient.
        """
        attention = attention.detach()
        num_tuples, num_frames = self.num_tuples, self.num_frames
        shots = attention.shape[-1] // num_tuples
        # onehot[p, r, t] = 1 if frame r of tuple p is frame t
        onehot = nn.functional.one_hot(self.tuples, num_frames).to(
            attention.dtype)
        attention = attention.unflatten(-1, (shots, num_tuples))
        # sum_r sum_p sum_(k,q) A[p, (k, q)] onehot[p, r, i] onehot[q, r, j]
        to_support = torch.einsum('...pkq,qrj->...prj', attention, onehot)
        pairs = torch.einsum('...prj,pri->...ij', to_support, onehot)
        return pairs / math.comb(num_frames - 1, self.cardinality - 1)

    def explain(self, frame_attention: Tensor) -> FrameMatches:
        """The frame pairs the tuple attention matched most.

        Args:
            frame_attention (Tensor): ``[..., Tq, Ts]``
                (:meth:`frame_attention`; larger = more attended).

        Returns:
            FrameMatches: ``soft`` = the frame attention itself; ``path``
            (bool) = each query frame's most attended support frame and
            each support frame's most attending query frame.
        """
        soft = frame_attention.detach()
        rows = nn.functional.one_hot(soft.argmax(-1), soft.shape[-1])
        cols = nn.functional.one_hot(soft.argmax(-2),
                                     soft.shape[-2]).transpose(-1, -2)
        return FrameMatches(soft=soft, path=(rows + cols) > 0)
