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
from torch import Tensor

from m2df_mmaction.models.heads import (BaseFewShotHead, MatchView,
                                        class_prototypes)
from m2df_mmaction.models.layers import pairwise_cos_sim
from m2df_mmaction.structures import Episode

__all__ = ['TwoViewOTAMHead']


@MODELS.register_module()
class TwoViewOTAMHead(BaseFewShotHead):
    """OTAM on frames and on frame differences, mutually distilled.

    Needs: pooled frames only (the base default). Outputs: ``logits``;
    per view ``v`` in (``frames``, ``motion``) ``distance_v`` ``[B, M, N]``
    and ``frame_distances_v`` ``[B, M, N, T', T']`` (``T' = T`` for
    frames, ``T - 1`` for motion), which :meth:`match_views` hands to the
    OTAM layer to explain.

    Args:
        otam (dict): Alignment layer config, shared by both views.
            Defaults to bidirectional OTAM with λ = 0.5.
        loss_distill (dict, optional): Distillation between the two views'
            distances ``[B, M, N]``. Defaults to
            ``MutualDistillLoss(conditions=('v',))``; None disables it.
        **kwargs: See :class:`BaseFewShotHead` (``loss_cls``).
    """

    def __init__(self,
                 otam: dict = dict(type='OTAM', lbda=0.5, bidirectional=True),
                 loss_distill: Optional[dict] = dict(
                     type='MutualDistillLoss', conditions=('v', )),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.otam = MODELS.build(otam)
        self.loss_distill = MODELS.build(loss_distill) \
            if loss_distill is not None else None

    def match_views(self) -> Dict[str, MatchView]:
        """Both views are explained by the same OTAM layer."""
        return {
            view: MatchView(self.otam, f'frame_distances_{view}',
                            f'distance_{view}')
            for view in ('frames', 'motion')
        }

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """See the class docstring for the outputs."""
        outputs = {}
        views = dict(
            frames=(episode.support, episode.query),
            motion=(episode.support.diff(dim=2), episode.query.diff(dim=2)))
        for view, (support, query) in views.items():
            protos = class_prototypes(support, episode.num_ways)
            # [B, M, T', D] x [B, N, T', D] -> [B, M, N, T', T']
            frame_dists = 1 - pairwise_cos_sim(query, protos)
            outputs[f'frame_distances_{view}'] = frame_dists
            outputs[f'distance_{view}'] = self.otam(frame_dists.float())
        outputs['logits'] = -(
            outputs['distance_frames'] + outputs['distance_motion'])
        return outputs

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """``loss_distill`` between the two views."""
        if self.loss_distill is None:
            return {}
        return dict(
            loss_distill=self.loss_distill(outputs['distance_frames'],
                                           outputs['distance_motion']))
