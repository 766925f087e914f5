# Copyright (c) m2df_mmaction contributors.
"""MoLo's long-short contrastive objective (Wang et al., CVPR 2023).

Each video carries a global token (row 0 of its temporal transformer's
output, the class token) and frame tokens. The long-short objective asks
a video's global token to match the frames of the videos of its class:

- support-to-query: ``d_s2q[q, c] = sum_t (1 - cos(proto_c[t], g_q))``,
  the frames of class ``c``'s prototype against query ``q``'s global
  token;
- query-to-support: ``d_q2s[q, c] = sum_t (1 - cos(query_q[t], g_c))``,
  the query's frames against the prototype's global token;

logits ``-s * d`` with a learnable scale ``s`` (init 1; official
``TRAIN.TEMP_COFF`` fixes it), one cross-entropy each against the query
labels. Official: ``CNN_BiMHM_MoLo.forward`` of ``models/base/few_shot.py``
(alibaba-mmai-research/MoLo ``f7f73b6``, L2530-L2575; ``scale`` /
``scale_motion`` built at L2400-L2408) and the loss of
``runs/train_net_few_shot.py`` L125 (``USE_CONTRASTIVE_COFF`` = 0.05 on
each of the four terms: appearance and motion, both directions).
``cos`` is the official :func:`cos_sim` (+0.01 in the denominator).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

from ..layers.similarity import cos_sim

__all__ = ['LongShortContrastiveLoss']


@MODELS.register_module()
class LongShortContrastiveLoss(nn.Module):
    """Global-token-to-frames contrastive loss of one stream, both ways.

    A MoLo head builds one per stream (appearance, motion), each with its
    own scale (official ``scale`` and ``scale_motion``).

    Note:
        With ``learnable_scale=True`` the scale is a parameter: under DDP
        without ``find_unused_parameters`` the head must call this loss at
        every training step.

    Args:
        loss_weight (float): Weight of each of the two cross-entropies
            (official ``USE_CONTRASTIVE_COFF`` 0.05).
        scale (float): (Initial) scale ``s``. Defaults to 1.0.
        learnable_scale (bool): Learn ``s`` (official unless the yaml sets
            ``TEMP_COFF``). Defaults to True.
        eps (float): Epsilon of :func:`cos_sim`. Defaults to 0.01.
    """

    def __init__(self,
                 loss_weight: float = 0.05,
                 scale: float = 1.0,
                 learnable_scale: bool = True,
                 eps: float = 0.01) -> None:
        super().__init__()
        scale = torch.tensor(float(scale))
        if learnable_scale:
            self.scale = nn.Parameter(scale)
        else:
            self.register_buffer('scale', scale)
        self.loss_weight = loss_weight
        self.eps = eps

    def logits(self, query_frames: Tensor, query_global: Tensor,
               proto_frames: Tensor,
               proto_global: Tensor) -> Tuple[Tensor, Tensor]:
        """Support-to-query and query-to-support logits.

        Args:
            query_frames (Tensor): ``[B, M, T, D]`` query frame tokens.
            query_global (Tensor): ``[B, M, D]`` query global tokens.
            proto_frames (Tensor): ``[B, N, T, D]`` class prototypes'
                frame tokens.
            proto_global (Tensor): ``[B, N, D]`` prototypes' global tokens.

        Returns:
            tuple[Tensor, Tensor]: ``logits_s2q`` and ``logits_q2s``, both
            ``[B, M, N]``, in float32 or better.
        """
        work = torch.promote_types(query_frames.dtype, torch.float32)
        with torch.autocast(device_type=query_frames.device.type,
                            enabled=False):
            # [B, N, T, M]: every prototype frame against every query
            s2q = (1 - cos_sim(proto_frames.to(work), query_global.to(work)
                               [:, None], self.eps)).sum(2).transpose(1, 2)
            # [B, M, T, N]: every query frame against every prototype
            q2s = (1 - cos_sim(query_frames.to(work), proto_global.to(work)
                               [:, None], self.eps)).sum(2)
        scale = self.scale.to(work)
        return -s2q * scale, -q2s * scale

    def forward(self, logits_s2q: Tensor, logits_q2s: Tensor,
                labels: Tensor) -> Tensor:
        """``loss_weight * (CE(s2q) + CE(q2s))``, each a mean over queries.

        Args:
            logits_s2q (Tensor): ``[B, M, N]`` from :meth:`logits`.
            logits_q2s (Tensor): ``[B, M, N]``.
            labels (Tensor): ``[B, M]`` episode-relative query labels.

        Returns:
            Tensor: 0-dim.
        """
        labels = labels.flatten()
        return self.loss_weight * (
            F.cross_entropy(logits_s2q.flatten(0, 1), labels) +
            F.cross_entropy(logits_q2s.flatten(0, 1), labels))
