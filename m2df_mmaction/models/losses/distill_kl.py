# Copyright (c) m2df_mmaction contributors.
"""Temperature-scaled KL distillation (Hinton et al.), as TS-FSAR uses it."""
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

__all__ = ['DistillKLLoss']


@MODELS.register_module()
class DistillKLLoss(nn.Module):
    """``KL(softmax(t / τ) ‖ softmax(s / τ)) · τ²``, summed over classes and
    averaged over rows.

    TS-FSAR ``utils/functions.py`` ``DistillKL`` (``kl_div(...,
    size_average=False) * T**2 / rows``), weighted by ``TRAIN.KD_ALPHA``
    with ``T = TRAIN.KD_T``. The teacher is *not* detached, as in the
    official code: the gradient reaches the teacher's branch too (set
    ``detach_teacher`` to stop it).

    Args:
        temperature (float): ``τ``. Defaults to 4.
        loss_weight (float): Weight. Defaults to 1.
        detach_teacher (bool): Stop the gradient at the teacher's logits.
            Defaults to False (official).
    """

    def __init__(self,
                 temperature: float = 4.0,
                 loss_weight: float = 1.0,
                 detach_teacher: bool = False) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.detach_teacher = detach_teacher

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Args: ``student``, ``teacher`` ``[R, C]`` logits. Returns: 0-dim
        loss (float32)."""
        t = self.temperature
        if self.detach_teacher:
            teacher = teacher.detach()
        log_p = F.log_softmax(student.float() / t, dim=-1)
        q = F.softmax(teacher.float() / t, dim=-1)
        loss = F.kl_div(log_p, q, reduction='sum') * t**2 / student.shape[0]
        return self.loss_weight * loss
