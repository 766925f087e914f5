# Copyright (c) m2df_mmaction contributors.
"""HyRSM++'s temporal-coherence regulariser (Wang et al., 2023).

Official code: alibaba-mmai-research/HyRSMPlusPlus ``models/base/
few_shot.py`` (commit 0d93298), ``CNN_HyRSM_plusplus_1shot`` L865–1006 and
``_5shot`` L1007–1155 (``temproal_regular``, ``temproal_regular_label`` and
``loss_temporal_regular``); its weight in ``runs/train_net_few_shot.py``
L108–113. For the intra-video frame distances ``D = 1 - cos`` ``[T, T]``
of a video (L2-normalised frames),

.. math::

    L = \\mathrm{mean}\\big(D \\cdot W \\cdot R
        + \\beta (1 - W)\\, \\mathrm{relu}(R - D)\\big)

with ``W[i, j] = 1`` if ``|i - j| <= w`` (the window) else 0, and
``R[i, j] = 1 / ((i - j)^2 + 1)`` inside the window,
``1 - exp(-(|i - j| - w)^2 / balance)`` outside: frames close in time are
pulled together (weighted by ``R``), frames far apart pushed at least
``R`` apart. The official head adds one such mean over its supports (one
per query, after the hybrid relation) and one over its queries.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['TemporalCoherenceLoss', 'temporal_coherence_targets']


def temporal_coherence_targets(num_frames: int, window_size: int,
                               temporal_balance: float, device=None):
    """``(R, W)``, each ``[T, T]`` float32 (official ``temproal_regular``
    and ``temproal_regular_label``)."""
    idx = torch.arange(num_frames, device=device)
    gap = (idx[:, None] - idx[None, :]).abs().float()
    inside = gap <= window_size
    far = 1 - torch.exp(-(gap - window_size)**2 / temporal_balance)
    targets = torch.where(inside, 1 / (gap**2 + 1), far)
    return targets, inside.float()


@MODELS.register_module()
class TemporalCoherenceLoss(nn.Module):
    """HyRSM++'s temporal-coherence term (module docstring).

    Defaults are the SSv2 yamls' values (``configs/projects/hyrsmplusplus/
    ssv2_full/HyRSMplusplus_SSv2_Full_{1,5}shot_v1.yaml``). The yamls'
    ``TRAIN.TEMPORAL_WEIGHT`` (0.5) is read by no code; the weight used is
    ``TEMPORAL_LOSS_WEIGHT``.

    Args:
        window_size (int): ``w`` (``TRAIN.WINDOW_SIZE``). Defaults to 1.
        temporal_balance (float): ``TRAIN.TEMPORAL_BALANCE``. Defaults to
            51.
        balance_coefficient (float): ``β`` (``TRAIN.BALANCE_COEFFICIENT``).
            Defaults to 10. The official code uses 1 when the key is
            absent or 0 (β = 1 turns a recorded 0.753 into 0.107).
        loss_weight (float): ``TRAIN.TEMPORAL_LOSS_WEIGHT``. Defaults to
            0.3.
    """

    def __init__(self,
                 window_size: int = 1,
                 temporal_balance: float = 51.0,
                 balance_coefficient: float = 10.0,
                 loss_weight: float = 0.3) -> None:
        super().__init__()
        if temporal_balance <= 0:
            raise ValueError('TemporalCoherenceLoss: temporal_balance must '
                             f'be positive, got {temporal_balance}.')
        self.window_size = window_size
        self.temporal_balance = temporal_balance
        self.balance_coefficient = balance_coefficient or 1.0
        self.loss_weight = loss_weight

    def _term(self, frames: Tensor) -> Tensor:
        frames = F.normalize(frames.float(), dim=-1)
        dists = 1 - frames @ frames.transpose(-1, -2)  # [..., T, T]
        targets, window = temporal_coherence_targets(
            frames.shape[-2], self.window_size, self.temporal_balance,
            frames.device)
        return (dists * window * targets + self.balance_coefficient *
                (1 - window) * F.relu(targets - dists)).mean()

    def forward(self, *videos: Sequence[Tensor]) -> Tensor:
        """Weighted sum over the groups of videos of each group's mean term.

        Args:
            *videos (Tensor): Groups of frame features ``[..., T, D]``
                (HyRSM++: the query-conditioned supports
                ``[B, M, n, T, D]`` and the queries ``[B, M, T, D]``).

        Returns:
            Tensor: 0-dim ``loss_weight * sum_g mean(term_g)``.
        """
        if not videos:
            raise ValueError('TemporalCoherenceLoss needs at least one '
                             'group of videos.')
        return self.loss_weight * sum(self._term(v) for v in videos)
