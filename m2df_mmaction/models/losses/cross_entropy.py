# Copyright (c) m2df_mmaction contributors.
"""Cross-entropy over an episode's queries with a chosen reduction."""
from typing import List, Optional

import torch
from mmaction.models.losses import CrossEntropyLoss
from mmaction.registry import MODELS

__all__ = ['FewShotCrossEntropyLoss']

_REDUCTIONS = ('mean', 'sum')


@MODELS.register_module()
class FewShotCrossEntropyLoss(CrossEntropyLoss):
    """MMAction2's ``CrossEntropyLoss`` with a ``reduction`` setting.

    The reduction is part of a few-shot recipe: CLIP-FSAR averages the
    cross-entropy over the queries, while the CLIP-M2DF run script sums it
    (TRX's ``loss``), which weighs the classification term ``N*Q`` times
    more against the distillation term (docs/method.md §1.3 h).
    MMAction2's loss only averages.

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.0.
        class_weight (list[float], optional): Per-class weights, as in
            MMAction2's loss. Defaults to None.
        reduction (str): ``'mean'`` or ``'sum'`` over the queries (hard
            labels). Defaults to ``'mean'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 class_weight: Optional[List[float]] = None,
                 reduction: str = 'mean') -> None:
        super().__init__(loss_weight=loss_weight, class_weight=class_weight)
        if reduction not in _REDUCTIONS:
            raise ValueError(f'reduction must be one of {_REDUCTIONS}, got '
                             f'{reduction!r}')
        self.reduction = reduction

    def _forward(self, cls_score: torch.Tensor, label: torch.Tensor,
                 **kwargs) -> torch.Tensor:
        """Cross-entropy of ``cls_score`` ``[M, C]`` and labels ``[M]``."""
        if cls_score.size() != label.size():  # hard labels
            kwargs.setdefault('reduction', self.reduction)
        elif self.reduction != 'mean':
            raise ValueError('FewShotCrossEntropyLoss sums hard labels only.')
        return super()._forward(cls_score, label, **kwargs)
