# Copyright (c) m2df_mmaction contributors.
"""Example: MutualDistillLoss in a two-view head of your own.

Not part of the package: a config imports it with
``custom_imports = dict(imports=['m2df_mmaction',
'docs.examples.two_view_head'])`` (``tools/train.py`` and ``tools/test.py``
put the repository root on ``sys.path``; ``docs`` is a namespace package
on purpose, so ``pip install`` never ships it).

Two OTAM views of the same frame features: view ``a`` aligns the frames,
view ``b`` aligns their temporal differences ``f[t+1] - f[t]`` (motion).
The logits are the sum of both views; on each query the more confident
view teaches the other (``MutualDistillLoss`` with condition ``'v'``:
there is no text branch here, so no ``'t'``).
"""
from typing import Dict, Optional

from mmaction.registry import MODELS
from mmaction.utils import SampleList
from torch import Tensor

from m2df_mmaction.models.heads import (BaseFewShotHead, Episode,
                                        class_prototypes)
from m2df_mmaction.models.layers import cos_sim, otam_distance

__all__ = ['TwoViewOTAMHead']


@MODELS.register_module()
class TwoViewOTAMHead(BaseFewShotHead):
    """OTAM on frames and on frame differences, mutually distilled.

    Args:
        lbda (float): OTAM soft-min smoothness. Defaults to 0.5.
        loss_distill (dict, optional): Distillation between the two views'
            distances ``[B, N*Q, N]``. Defaults to
            ``MutualDistillLoss(conditions=('v',))``; None disables it.
        **kwargs: See :class:`BaseFewShotHead` (``loss_cls``).
    """

    def __init__(self,
                 lbda: float = 0.5,
                 loss_distill: Optional[dict] = dict(
                     type='MutualDistillLoss', conditions=('v', )),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.lbda = lbda
        self.loss_distill = MODELS.build(loss_distill) \
            if loss_distill is not None else None

    def _otam(self, support: Tensor, query: Tensor, num_ways: int) -> Tensor:
        """OTAM distances ``[B, N*Q, N]`` of ``[B, *, T, D]`` features."""
        protos = class_prototypes(support, num_ways)
        frame_dists = 1 - cos_sim(query.unsqueeze(2), protos.unsqueeze(1))
        return otam_distance(frame_dists.float(), lbda=self.lbda)

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """See :meth:`BaseFewShotHead.score`; the text is unused.

        Returns:
            dict: ``logits``, ``distance_frames`` and ``distance_motion``,
            each ``[B, N*Q, N]``.
        """
        support, query, ways = episode.support, episode.query, \
            episode.num_ways
        dist_a = self._otam(support, query, ways)
        dist_b = self._otam(support.diff(dim=2), query.diff(dim=2), ways)
        return dict(
            logits=-(dist_a + dist_b),
            distance_frames=dist_a,
            distance_motion=dist_b)

    def extra_losses(self, outputs: Dict[str, Tensor],
                     data_samples: SampleList) -> Dict[str, Tensor]:
        """``loss_distill`` between the two views."""
        if self.loss_distill is None:
            return {}
        return dict(
            loss_distill=self.loss_distill(outputs['distance_frames'],
                                           outputs['distance_motion']))
