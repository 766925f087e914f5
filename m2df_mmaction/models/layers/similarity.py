# Copyright (c) m2df_mmaction contributors.
"""Cosine similarity and frame distances as the official heads define them.
"""
import torch
from torch import Tensor

__all__ = ['cos_sim', 'frame_distance']


def cos_sim(x: Tensor, y: Tensor, eps: float = 0.01) -> Tensor:
    """Pairwise cosine similarity with an additive epsilon.

    .. math::

        \\mathrm{cos}(x_i, y_j) = \\frac{x_i \\cdot y_j}
        {\\lVert x_i \\rVert \\, \\lVert y_j \\rVert + \\epsilon}

    The epsilon is *added to the product of the norms*, as in the official
    CLIP-FSAR / CLIP-M2DF ``cos_sim``; it is not a clamp, so the value is
    slightly smaller in magnitude than :func:`torch.nn.functional.
    cosine_similarity` (by a factor ``n / (n + eps)``).

    Args:
        x (Tensor): ``[..., M, D]``.
        y (Tensor): ``[..., N, D]``; leading dims broadcast against ``x``.
        eps (float): Added to the product of norms. Defaults to 0.01.

    Returns:
        Tensor: ``[..., M, N]`` in the dtype of ``x @ y^T`` (so the matmul
        follows ``torch.autocast``; the norms and the division run in
        float32 or better).
    """
    prod = torch.matmul(x, y.transpose(-1, -2))
    work = torch.promote_types(prod.dtype, torch.float32)
    x_norm = torch.linalg.vector_norm(x.to(work), dim=-1)
    y_norm = torch.linalg.vector_norm(y.to(work), dim=-1)
    denom = x_norm.unsqueeze(-1) * y_norm.unsqueeze(-2) + eps
    return (prod.to(work) / denom).to(prod.dtype)


def frame_distance(x: Tensor, y: Tensor, eps: float = 0.01) -> Tensor:
    """Frame distance matrix ``1 - cos_sim(x, y)`` for OTAM.

    Args:
        x (Tensor): Query frames ``[..., Tq, D]``.
        y (Tensor): Support frames ``[..., Ts, D]``; leading dims broadcast,
            e.g. ``x[:, :, None]`` ``[B, NQ, 1, T, D]`` against
            ``y[:, None]`` ``[B, 1, N, T, D]`` gives ``[B, NQ, N, T, T]``.
        eps (float): See :func:`cos_sim`. Defaults to 0.01.

    Returns:
        Tensor: ``[..., Tq, Ts]``.
    """
    return 1 - cos_sim(x, y, eps)
