# Copyright (c) m2df_mmaction contributors.
"""Shrinking pretrained weights to smaller layers by PCA (TS-FSAR's init).

TS-FSAR initialises every layer of its side network from the frozen CLIP
layer at the same depth (yaozhang0417/TS-FSAR ``trainers/model.py``,
``LSN.PCA`` and ``LSN.prune_and_initialize``):

- a weight matrix ``W`` ``[out, in]`` becomes ``[rows, cols]``: when
  ``rows >= cols``, the first ``rows`` rows of the PCA scores of ``W``'s
  rows on ``cols`` components; otherwise the transpose: the first ``cols``
  columns of the PCA scores of ``W``'s columns on ``rows`` components,
  transposed;
- a vector (bias, LayerNorm weight) is resampled to its new length by
  bicubic interpolation.

The official code calls scikit-learn's ``PCA(n).fit_transform``. For
matrices over 500 rows and columns and ``n`` under 80 % of the smaller
side (CLIP ViT-B/16: 768 -> 256) scikit-learn 1.3's ``svd_solver='auto'``
picks its *randomized* solver, so the official initialisation is itself a
random approximation of the exact truncated SVD computed here; for
smaller matrices (the parity fixtures) both are the exact one. Scores are
``U[:, :n] * S[:n]`` of the column-centred matrix, with scikit-learn 1.3's
sign convention (``svd_flip``, U-based: each column of ``U`` has its
largest-magnitude entry positive).
"""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['pca_scores', 'pca_shrink']


def pca_scores(x: Tensor, n: int) -> Tensor:
    """PCA scores of the rows of ``x`` on ``n`` components.

    Args:
        x (Tensor): ``[S, F]`` samples by features.
        n (int): Components, at most ``min(S, F)``.

    Returns:
        Tensor: ``[S, n]``, in ``x``'s dtype.
    """
    if not 0 < n <= min(x.shape):
        raise ValueError(f'PCA of a {tuple(x.shape)} matrix cannot keep {n} '
                         'components (at most the smaller side).')
    centred = x.double() - x.double().mean(0, keepdim=True)
    u, s, _ = torch.linalg.svd(centred, full_matrices=False)
    rows = u.abs().argmax(0)
    signs = torch.sign(u[rows, torch.arange(u.shape[1], device=u.device)])
    u = u * signs
    return (u[:, :n] * s[:n]).to(x.dtype)


def pca_shrink(weight: Tensor, cols: int, rows: int) -> Tensor:
    """A pretrained weight shrunk to a smaller layer's shape.

    Args:
        weight (Tensor): ``[out, in]`` matrix or ``[out]`` vector.
        cols (int): The new ``in`` (matrices only).
        rows (int): The new ``out``.

    Returns:
        Tensor: ``[rows, cols]`` or ``[rows]``.
    """
    weight = weight.detach()
    if weight.dim() == 1:
        return F.interpolate(
            weight.float()[None, None, :, None], size=(rows, 1),
            mode='bicubic')[0, 0, :, 0].to(weight.dtype)
    if rows >= cols:
        return pca_scores(weight, cols)[:rows]
    return pca_scores(weight.t(), rows).t()[:, :cols]
