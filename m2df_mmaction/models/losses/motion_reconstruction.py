# Copyright (c) m2df_mmaction contributors.
"""MoLo's motion reconstruction loss (Wang et al., CVPR 2023).

The motion decoder (:class:`MoLoMotionDecoder`) turns each motion map
(frame ``t`` to ``t + 1``) back into pixels; the target is the
difference of the two input frames, ``frames[t + 1] - frames[t]``, and
the loss the mean squared error over every pixel, channel and frame.

Official: ``CNN_BiMHM_MoLo.forward`` of ``models/base/few_shot.py``
(alibaba-mmai-research/MoLo ``f7f73b6``: the target at L2510-L2514, the
loss at L2634-L2638), weighted by ``TRAIN.RECONS_COFF`` = 0.1 in
``runs/train_net_few_shot.py`` L125. The official loop divides every
other term by ``TRAIN.BATCH_SIZE`` (4 accumulated episodes) but **not**
this one; per episode of an update averaged over episodes that is a
weight of ``0.1 * 4 = 0.4`` (the MoLo head's default).
"""
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['MotionReconstructionLoss']


@MODELS.register_module()
class MotionReconstructionLoss(nn.Module):
    """Mean squared error between decoded motion and frame differences.

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, recons: Tensor, frames: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            recons (Tensor): ``[V, T-1, 3, H, W]`` decoded motion of ``V``
                videos.
            frames (Tensor): ``[V, T, 3, H, W]`` their input frames (as
                normalised for the encoder).

        Returns:
            Tensor: 0-dim, ``loss_weight * mean((recons - diff)^2)``.
        """
        if frames.dim() != 5 or tuple(recons.shape) != (
                frames.size(0), frames.size(1) - 1, *frames.shape[2:]):
            raise ValueError(
                f'{type(self).__name__}: the decoded motion '
                f'{tuple(recons.shape)} must be [V, T-1, 3, H, W] for frames '
                f'[V, T, 3, H, W] = {tuple(frames.shape)}; MoLo upsamples '
                'h x w maps by its decoder\'s scale_factors (official 32: '
                '7x7 maps, 224x224 frames).')
        target = frames[:, 1:] - frames[:, :-1]
        return self.loss_weight * F.mse_loss(recons, target.to(recons.dtype))
