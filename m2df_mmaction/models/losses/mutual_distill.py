# Copyright (c) m2df_mmaction contributors.
"""Reliability-gated mutual distillation between two views (CLIP-M2DF).

For each query the more confident view teaches the other
(docs/method.md §1.3 g). With class distributions
:math:`P^v_q = \\mathrm{softmax}(-d^v_q)` of views ``a`` (local) and ``b``
(global):

.. math::

    v^v_q &= \\max_k P^v_{q,k}, \\qquad
    t^v_q = \\max_k \\mathrm{softmax}_k(\\mathrm{sim}^v_{q,k}) \\\\
    L_{a \\to b} &= \\frac{\\sum_{q \\in R_a} c_q \\,
    \\mathrm{KL}(P^a_q \\,\\|\\, P^b_q)}{\\sum_{q \\in R_a} c_q},
    \\qquad c_q = v^a_q + t^a_q

where :math:`R_a` holds the queries on which ``a`` is reliable: with both
conditions, :math:`v^a \\ge v^b` and :math:`t^a \\ge t^b`; ``b`` is
reliable when :math:`v^a < v^b` and :math:`t^a < t^b`; other queries are
skipped. :math:`L_{b \\to a}` is symmetric.
"""
from typing import NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['MutualDistillLoss', 'Reliability']

# Our names, plus aliases: the official ``dist_direction`` names are
# confusing: 'up' is the local view, yet 'up2down' makes the *global* view
# teach the local one and 'down2up' the local view teach the global one.
_DIRECTIONS = {
    'bidirectional': 'bidirectional',
    'bid': 'bidirectional',
    'local_to_global': 'a_to_b',
    'a_to_b': 'a_to_b',
    'down2up': 'a_to_b',
    'global_to_local': 'b_to_a',
    'b_to_a': 'b_to_a',
    'up2down': 'b_to_a',
}
_CONDITIONS = ('t', 'v')


class Reliability(NamedTuple):
    """Which view teaches on which query, and with what weight.

    Attributes:
        a_teaches (Tensor): ``[M]`` bool, view a reliable.
        b_teaches (Tensor): ``[M]`` bool, view b reliable.
        weight_a (Tensor): ``[M]`` confidence :math:`v^a + t^a`.
        weight_b (Tensor): ``[M]`` confidence :math:`v^b + t^b`.
    """
    a_teaches: Tensor
    b_teaches: Tensor
    weight_a: Tensor
    weight_b: Tensor


def _kl(teacher_logp: Tensor, student_logp: Tensor) -> Tensor:
    """Row-wise KL(teacher || student) from log-probabilities ``[M, N]``."""
    return (teacher_logp.exp() * (teacher_logp - student_logp)).sum(-1)


@MODELS.register_module()
class MutualDistillLoss(nn.Module):
    """Confidence-gated mutual distillation for any two-view head.

    Args:
        conditions (Sequence[str]): Reliability tests, a subset of
            ``('t', 'v')``: ``'v'`` compares the visual confidences
            :math:`\\max \\mathrm{softmax}(-d)`, ``'t'`` the text confidences
            :math:`\\max \\mathrm{softmax}(\\mathrm{sim})`. With one test
            every query has a teacher; with both, queries where the tests
            disagree are skipped; with none (``()``) the loss is the
            unconditional KL, symmetric for ``'bidirectional'``, averaged
            over queries (the official code sums). Defaults to
            ``('t', 'v')`` as docs/method.md §1.5 recommends.
        direction (str): ``'bidirectional'`` (official ``'bid'``),
            ``'local_to_global'`` (= ``'a_to_b'``; official ``'down2up'``:
            only the local view teaches) or ``'global_to_local'``
            (= ``'b_to_a'``; official ``'up2down'``, the official default:
            only the global view teaches). Defaults to ``'bidirectional'``.
        input_type (str): ``'distance'`` (class distributions are
            ``softmax(-x)``) or ``'logits'`` (``softmax(x)``). Defaults to
            ``'distance'``.
        detach_teacher (bool): Stop the gradient through the teacher's
            distribution and the confidence weights. Defaults to True: the
            reliable view should teach, not be pulled towards the unreliable
            one, and gradients through the weights would let the loss shrink
            by lowering confidence. False reproduces the official code,
            which detaches nothing.
        loss_weight (float): :math:`\\lambda_2`. Defaults to 1.0.
        loss_name (str): Key for MMEngine's log. Defaults to
            ``'loss_distill'``.
    """

    def __init__(self,
                 conditions: Sequence[str] = ('t', 'v'),
                 direction: str = 'bidirectional',
                 input_type: str = 'distance',
                 detach_teacher: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_distill') -> None:
        super().__init__()
        conditions = tuple(sorted(set(conditions)))
        if any(c not in _CONDITIONS for c in conditions):
            raise ValueError(f'conditions must be a subset of {_CONDITIONS},'
                             f' got {conditions}')
        if direction not in _DIRECTIONS:
            raise ValueError(f'direction must be one of '
                             f'{sorted(_DIRECTIONS)}, got {direction!r}')
        if input_type not in ('distance', 'logits'):
            raise ValueError("input_type must be 'distance' or 'logits', "
                             f'got {input_type!r}')
        self.conditions = conditions
        self.direction = _DIRECTIONS[direction]
        self.input_type = input_type
        self.detach_teacher = detach_teacher
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Name of the loss in MMEngine's log."""
        return self._loss_name

    def _log_probs(self, x: Tensor) -> Tensor:
        """``[M, N]`` log class probabilities in float32 or better."""
        x = x.to(torch.promote_types(x.dtype, torch.float32))
        return F.log_softmax(-x if self.input_type == 'distance' else x, -1)

    def reliability(self,
                    logp_a: Tensor,
                    logp_b: Tensor,
                    sim_a: Optional[Tensor] = None,
                    sim_b: Optional[Tensor] = None) -> Reliability:
        """Decide the teacher of each query.

        Args:
            logp_a (Tensor): Log class probabilities of view a ``[..., N]``
                (e.g. ``[E, M, N]``).
            logp_b (Tensor): Same for view b.
            sim_a (Tensor, optional): Prompt-token similarities of view a,
                the shape of ``logp_a``; required for condition ``'t'``.
                When given, the text confidence joins the weights.
            sim_b (Tensor, optional): Same for view b.

        Returns:
            Reliability: masks and confidence weights, ``[...]`` each.
        """
        v_a = logp_a.max(-1).values.exp()
        v_b = logp_b.max(-1).values.exp()
        weight_a, weight_b = v_a, v_b
        if sim_a is not None and sim_b is not None:
            work = v_a.dtype
            t_a = sim_a.reshape(v_a.shape + (-1, )).to(work).softmax(-1)
            t_b = sim_b.reshape(v_b.shape + (-1, )).to(work).softmax(-1)
            t_a, t_b = t_a.max(-1).values, t_b.max(-1).values
            weight_a, weight_b = v_a + t_a, v_b + t_b
        elif 't' in self.conditions:
            raise ValueError("condition 't' needs sim_a and sim_b")
        a_teaches = torch.ones_like(v_a, dtype=torch.bool)
        b_teaches = torch.ones_like(v_a, dtype=torch.bool)
        if 'v' in self.conditions:
            a_teaches &= v_a >= v_b
            b_teaches &= v_a < v_b
        if 't' in self.conditions:
            a_teaches &= t_a >= t_b
            b_teaches &= t_a < t_b
        return Reliability(a_teaches, b_teaches, weight_a, weight_b)

    def _directed(self, teacher: Tensor, student: Tensor, mask: Tensor,
                  weight: Tensor) -> Tensor:
        """Confidence-weighted mean KL over the masked queries of each
        episode, averaged over the episodes.

        Args:
            teacher (Tensor): ``[E, M, N]`` log-probabilities.
            student (Tensor): Same shape.
            mask (Tensor): ``[E, M]`` bool.
            weight (Tensor): ``[E, M]``.

        Returns:
            Tensor: 0-dim.
        """
        if self.detach_teacher:
            teacher, weight = teacher.detach(), weight.detach()
        kl = _kl(teacher, student)
        if not self.conditions:
            return kl.mean()
        weight = weight * mask.to(weight.dtype)
        # Empty mask: 0 / 1 = 0, and the graph is kept.
        per_episode = (weight * kl).sum(-1) / weight.sum(-1).clamp_min(
            torch.finfo(weight.dtype).tiny)
        return per_episode.mean()

    def forward(self,
                dist_a: Tensor,
                dist_b: Tensor,
                sim_a: Optional[Tensor] = None,
                sim_b: Optional[Tensor] = None) -> Tensor:
        """Compute the distillation loss.

        Args:
            dist_a (Tensor): View a (local) distances, or logits if
                ``input_type='logits'``: ``[NQ, N]`` for one episode or
                ``[B, NQ, N]`` for B episodes. The weighted mean is taken
                per episode and then averaged over the episodes, as the
                official code does with one episode per forward (a mean
                over all B x NQ queries would weigh the distillation about
                1/B as much against the per-episode classification loss).
            dist_b (Tensor): View b (global), same shape.
            sim_a (Tensor, optional): Cosine of each query's prompt-token
                output to each class prototype's prompt-token output in
                view a, ``[..., N]``. Required for condition ``'t'``.
            sim_b (Tensor, optional): Same for view b.

        Returns:
            Tensor: 0-dim loss times ``loss_weight`` in the dtype of
            ``dist_a`` (computed in float32 or better). It is an exact zero
            that keeps the graph when no query qualifies.
        """
        if dist_a.shape != dist_b.shape:
            raise ValueError(f'view shapes differ: {tuple(dist_a.shape)} vs '
                             f'{tuple(dist_b.shape)}')
        if dist_a.dim() not in (2, 3):
            raise ValueError('distances must be [NQ, N] or [B, NQ, N], got '
                             f'{tuple(dist_a.shape)}')
        shape = (-1, ) + tuple(dist_a.shape[-2:])  # [E, NQ, N]
        logp_a = self._log_probs(dist_a.reshape(shape))
        logp_b = self._log_probs(dist_b.reshape(shape))
        if sim_a is not None:
            sim_a = sim_a.reshape(shape)
        if sim_b is not None:
            sim_b = sim_b.reshape(shape)
        rel = self.reliability(logp_a, logp_b, sim_a, sim_b)
        terms = []
        if self.direction in ('bidirectional', 'a_to_b'):
            terms.append(
                self._directed(logp_a, logp_b, rel.a_teaches, rel.weight_a))
        if self.direction in ('bidirectional', 'b_to_a'):
            terms.append(
                self._directed(logp_b, logp_a, rel.b_teaches, rel.weight_b))
        loss = sum(terms[1:], terms[0])
        return (self.loss_weight * loss).to(dist_a.dtype)

    def extra_repr(self) -> str:
        return (f'conditions={self.conditions}, direction={self.direction!r}'
                f', detach_teacher={self.detach_teacher}, '
                f'loss_weight={self.loss_weight}')
