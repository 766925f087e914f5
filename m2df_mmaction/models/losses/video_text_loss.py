# Copyright (c) m2df_mmaction contributors.
"""Video-text matching loss of CLIP-FSAR (the auxiliary term of M2DF)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

from ..layers.similarity import cos_sim

__all__ = ['VideoTextLoss']


@MODELS.register_module()
class VideoTextLoss(nn.Module):
    """Cross-entropy of scaled video-text cosines against class ids.

    .. math::

        L_{vt} = \\lambda_0 \\, \\mathrm{CE}(s \\cdot \\cos(v_i, e_c),
        y_i)

    with ``v`` a video feature (e.g. the mean of its top-4 frames), ``e``
    the text embeddings of all training classes and ``s`` a scale,
    learnable and initialised to 1 in the official code. The cosine uses
    the official additive epsilon (:func:`cos_sim`).

    Note:
        With ``learnable_scale=True`` the scale is a parameter: under DDP
        without ``find_unused_parameters`` the head must call this loss at
        every step (build it only when ``loss_weight > 0``).

    Args:
        scale (float): (Initial) logit scale :math:`s`. Defaults to 1.0.
        learnable_scale (bool): Learn the scale. Defaults to True.
        loss_weight (float): :math:`\\lambda_0`. Defaults to 1.0.
        reduction (str): ``'mean'`` (CLIP-FSAR) or ``'sum'`` (the CLIP-M2DF
            run script, TRX's ``loss``) over the videos. Defaults to
            ``'mean'``.
        eps (float): Epsilon of :func:`cos_sim`. Defaults to 0.01.
        loss_name (str): Key for MMEngine's log. Defaults to
            ``'loss_video_text'``.
    """

    def __init__(self,
                 scale: float = 1.0,
                 learnable_scale: bool = True,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 eps: float = 0.01,
                 loss_name: str = 'loss_video_text') -> None:
        super().__init__()
        scale = torch.tensor(float(scale))
        if learnable_scale:
            self.scale = nn.Parameter(scale)
        else:
            self.register_buffer('scale', scale)
        if reduction not in ('mean', 'sum'):
            raise ValueError("reduction must be 'mean' or 'sum', got "
                             f'{reduction!r}')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.eps = eps
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Name of the loss in MMEngine's log."""
        return self._loss_name

    def logits(self, video: Tensor, text: Tensor) -> Tensor:
        """Scaled cosine logits ``[M, C]`` (float32 or better).

        Args:
            video (Tensor): Video features ``[M, D]``.
            text (Tensor): Class text embeddings ``[C, D]``.
        """
        work = torch.promote_types(video.dtype, torch.float32)
        with torch.autocast(device_type=video.device.type, enabled=False):
            sim = cos_sim(video.to(work), text.to(work), self.eps)
        return sim * self.scale.to(work)

    def forward(self,
                video: Tensor,
                text: Tensor,
                labels: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            video (Tensor): Video features ``[M, D]``.
            text (Tensor): Text embeddings of all classes ``[C, D]``.
            labels (Tensor): Class ids ``[M]`` (long) indexing ``text``.
            weight (Tensor, optional): Per-class weights ``[C]`` for
                :func:`F.cross_entropy`. Defaults to None.

        Returns:
            Tensor: 0-dim loss (mean or sum over videos) times
            ``loss_weight``.
        """
        logits = self.logits(video, text)
        return self.loss_weight * F.cross_entropy(
            logits, labels, weight, reduction=self.reduction)
