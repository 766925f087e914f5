# Copyright (c) m2df_mmaction contributors.
"""Prototypical network on temporally averaged frame features."""
from typing import Dict

import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from .base_few_shot_head import BaseFewShotHead, class_prototypes

__all__ = ['ProtoNetHead']


@MODELS.register_module()
class ProtoNetHead(BaseFewShotHead):
    """ProtoNet: cosine of the temporal mean to class prototypes.

    ``logits[q, k] = s * cos(mean_t f_q, mean_{shots, t} f_k)`` with a
    learnable scale ``s``. Order-blind by construction: it is the baseline
    that a temporal-alignment head should beat on order-sensitive classes.

    Args:
        init_scale (float): Initial logit scale ``s``. Defaults to 10.
        learnable_scale (bool): Learn ``log s``. Defaults to True.
        **kwargs: See :class:`BaseFewShotHead`.
    """

    def __init__(self,
                 init_scale: float = 10.0,
                 learnable_scale: bool = True,
                 **kwargs) -> None:
        super().__init__(
            init_scale=init_scale, learnable_scale=learnable_scale, **kwargs)

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """See :meth:`BaseFewShotHead.score`; the text is unused."""
        protos = F.normalize(
            class_prototypes(episode.support.mean(2), episode.num_ways),
            dim=-1)
        queries = F.normalize(episode.query.mean(2), dim=-1)
        logits = self.logit_scale * queries @ protos.transpose(1, 2)
        return dict(logits=logits)
