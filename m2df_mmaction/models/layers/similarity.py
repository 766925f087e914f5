# Copyright (c) m2df_mmaction contributors.
"""Cosine similarity and frame distances as the official heads define them.
"""
import torch
from torch import Tensor

__all__ = ['cos_sim', 'pairwise_cos_sim', 'frame_distance']


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


def pairwise_cos_sim(x: Tensor, y: Tensor, eps: float = 0.01) -> Tensor:
    """:func:`cos_sim` of every frame set of ``x`` with every one of ``y``.

    The same values as ``cos_sim(x[..., :, None, :, :], y[..., None, :, :,
    :])`` (up to float rounding), computed as one matrix product of all
    frames of ``x`` with all frames of ``y``: broadcasting the frame sets
    against each other would copy every frame of ``x`` ``R`` times and every
    frame of ``y`` ``P`` times first (on a CPU that copy costs more than the
    product), and the norms are taken once per frame.

    Args:
        x (Tensor): ``[..., P, M, D]``, e.g. queries ``[B, NQ, T, D]``.
        y (Tensor): ``[..., R, N, D]``, e.g. class prototypes
            ``[B, N, T, D]``; leading dims as ``x``'s.
        eps (float): Added to the product of norms. Defaults to 0.01.

    Returns:
        Tensor: ``[..., P, R, M, N]``, e.g. ``[B, NQ, N, T, T]``, in the
        dtype :func:`cos_sim` gives.
    """
    num_x, num_y = x.shape[-3:-1], y.shape[-3:-1]
    # [..., P*M, D] x [..., D, R*N] -> [..., P, M, R, N] -> [..., P, R, M, N]
    prod = torch.matmul(x.flatten(-3, -2), y.flatten(-3, -2).transpose(-1, -2))
    prod = prod.unflatten(-1, num_y).unflatten(-3, num_x).transpose(-3, -2)
    work = torch.promote_types(prod.dtype, torch.float32)
    x_norm = torch.linalg.vector_norm(x.to(work), dim=-1)  # [..., P, M]
    y_norm = torch.linalg.vector_norm(y.to(work), dim=-1)  # [..., R, N]
    denom = x_norm[..., :, None, :, None] * y_norm[..., None, :, None, :] + eps
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
