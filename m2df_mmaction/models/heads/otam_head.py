# Copyright (c) m2df_mmaction contributors.
"""OTAM: ordered temporal alignment of query frames to class prototypes."""
from typing import Dict

from mmaction.registry import MODELS
from torch import Tensor

from ..layers import otam_distance, pairwise_cos_sim
from .base_few_shot_head import BaseFewShotHead, Episode, class_prototypes

__all__ = ['OTAMHead']


@MODELS.register_module()
class OTAMHead(BaseFewShotHead):
    """OTAM head (Cao et al., CVPR 2020) over frame features.

    The frame distance ``1 - cos`` between a query and a class prototype
    (the mean of the class's supports, frame by frame) is aligned by the
    soft-min dynamic program of :func:`otam_distance`;
    ``logits = -s * d`` with ``s`` fixed at 1 as in OTAM, CLIP-FSAR and
    CLIP-M2DF, or learnable.

    Args:
        lbda (float): Soft-min smoothness λ. Defaults to 0.5.
        bidirectional (bool): Sum the query→support and support→query
            alignments. Defaults to True.
        **kwargs: See :class:`BaseFewShotHead` (``init_scale``,
            ``learnable_scale``, ``loss_cls``).
    """

    def __init__(self,
                 lbda: float = 0.5,
                 bidirectional: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.lbda = lbda
        self.bidirectional = bidirectional

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """See :meth:`BaseFewShotHead.score`; the text is unused.

        Returns:
            dict: ``logits`` and ``distances``, both ``[B, N*Q, N]``, and
            ``frame_distances`` ``[B, N*Q, N, T, T]`` (the OTAM input).
        """
        protos = class_prototypes(episode.support, episode.num_ways)
        # [B, NQ, T, D] x [B, N, T, D] -> [B, NQ, N, T, T]
        frame_dists = 1 - pairwise_cos_sim(episode.query, protos)
        dists = otam_distance(  # in float32, also under autocast
            frame_dists.float(),
            lbda=self.lbda,
            bidirectional=self.bidirectional)
        return dict(
            logits=-self.logit_scale * dists,
            distances=dists,
            frame_distances=frame_dists)
