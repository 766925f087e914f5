# Copyright (c) m2df_mmaction contributors.
"""OTAM: ordered temporal alignment of query frames to class prototypes."""
from typing import Dict

from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from ..layers import pairwise_cos_sim
from .base_few_shot_head import BaseFewShotHead, MatchView, class_prototypes

__all__ = ['OTAMHead']


@MODELS.register_module()
class OTAMHead(BaseFewShotHead):
    """OTAM head (Cao et al., CVPR 2020) over frame features.

    The frame distance ``1 - cos`` between a query and a class prototype
    (the mean of the class's supports, frame by frame) is aligned by the
    soft-min dynamic program of the alignment layer (:class:`OTAM`);
    ``logits = -s * d`` with ``s`` fixed at 1 as in OTAM, CLIP-FSAR and
    CLIP-M2DF, or learnable.

    Args:
        otam (dict): Alignment layer config. Defaults to bidirectional OTAM
            (query→support and support→query passes summed) with soft-min
            smoothness λ = 0.5.
        **kwargs: See :class:`BaseFewShotHead` (``init_scale``,
            ``learnable_scale``, ``loss_cls``).
    """

    def __init__(self,
                 otam: dict = dict(type='OTAM', lbda=0.5, bidirectional=True),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.otam = MODELS.build(otam)

    def match_views(self) -> Dict[str, MatchView]:
        """One view: the OTAM layer on ``frame_distances``."""
        return dict(otam=MatchView(self.otam, 'frame_distances', 'distances'))

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """See :meth:`BaseFewShotHead.score`; the text is unused.

        Returns:
            dict: ``logits`` and ``distances``, both ``[B, N*Q, N]``, and
            ``frame_distances`` ``[B, N*Q, N, T, T]`` (the OTAM input).
        """
        protos = class_prototypes(episode.support, episode.num_ways)
        # [B, NQ, T, D] x [B, N, T, D] -> [B, NQ, N, T, T]
        frame_dists = 1 - pairwise_cos_sim(episode.query, protos)
        dists = self.otam(frame_dists.float())  # float32 under autocast
        return dict(
            logits=-self.logit_scale * dists,
            distances=dists,
            frame_distances=frame_dists)
