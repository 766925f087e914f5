# Copyright (c) m2df_mmaction contributors.
"""Bi-MHM: the bidirectional mean Hausdorff metric between frame sets.

HyRSM (Wang et al., CVPR 2022) matches a query video to a support video as
two *sets* of frames, without temporal order: every query frame is matched
to its closest support frame and every support frame to its closest query
frame, and the distance is the sum of both sets of minima (HyRSM's
``CNN_HyRSM_*.forward``: ``dists.min(3)[0].sum(2) + dists.min(2)[0].sum(2)``
on ``1 - cos``; docs/method.md). MoLo and D2ST-Adapter use the same metric.
"""
from typing import NamedTuple

from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = ['BiMHM', 'FrameMatches', 'bimhm_distance']


class FrameMatches(NamedTuple):
    """Which frames a set matcher paired (:meth:`BiMHM.explain`).

    Attributes:
        soft (Tensor): ``[..., Tq, Ts]`` how many times each cell is a
            minimum: 1 if query frame ``l``'s closest support frame is
            ``m`` or support frame ``m``'s closest query frame is ``l``, 2
            if both (the gradient of the distance with respect to the frame
            distances, as for OTAM's soft alignment).
        path (Tensor): ``[..., Tq, Ts]`` bool, the cells where ``soft`` is
            positive: the pairs the metric used.
    """
    soft: Tensor
    path: Tensor


def bimhm_distance(dists: Tensor) -> Tensor:
    """Bi-MHM distance of frame distances.

    Args:
        dists (Tensor): ``[..., Tq, Ts]`` frame distances (query frames by
            support frames).

    Returns:
        Tensor: ``[...]``, the sum over query frames of their minimum over
        support frames plus the sum over support frames of their minimum
        over query frames.
    """
    return dists.min(-1).values.sum(-1) + dists.min(-2).values.sum(-1)


@MODELS.register_module()
class BiMHM(nn.Module):
    """Bi-MHM set matching as an alignment layer (beside :class:`OTAM`):
    ``forward`` gives the distances, ``explain`` the matched frames.

    It has no parameters and no settings; the head computes the frame
    distances (HyRSM: ``1 - cos`` of L2-normalised frames).
    """

    def forward(self, dists: Tensor) -> Tensor:
        """Distances ``[...]`` of frame distances ``[..., Tq, Ts]``
        (:func:`bimhm_distance`)."""
        return bimhm_distance(dists)

    def explain(self, dists: Tensor) -> FrameMatches:
        """The frame pairs the distance used.

        Args:
            dists (Tensor): ``[..., Tq, Ts]`` frame distances, as given to
                :meth:`forward`.

        Returns:
            FrameMatches: ``soft`` (in the dtype of ``dists``) and bool
            ``path``, both ``[..., Tq, Ts]``.
        """
        dists = dists.detach()
        query_side = nn.functional.one_hot(
            dists.argmin(-1), dists.shape[-1]).to(dists.dtype)
        support_side = nn.functional.one_hot(
            dists.argmin(-2), dists.shape[-2]).transpose(-1, -2).to(
                dists.dtype)
        soft = query_side + support_side
        return FrameMatches(soft=soft, path=soft > 0)
