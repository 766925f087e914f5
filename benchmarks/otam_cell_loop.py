# Copyright (c) m2df_mmaction contributors.
"""OTAM filled one cell at a time: the cost structure of the official heads.

Written from the recurrence in the docstring of
:mod:`m2df_mmaction.models.layers.otam` (not from any official code): the
padded cumulative matrix ``C`` is a tensor over all leading dims (episodes,
queries, classes), and every cell of rows ``1..Tq-1`` is one soft-min of
its parents, written into ``C`` in place, in the input dtype. So the number
of small tensor operations grows with ``Tq * Ts`` and not with the batch:
about 6 per cell and pass in the forward, as many again in the backward,
~1,500 in all for ``T = 8`` bidirectional. On a GPU each is a kernel launch,
which is what the project's row-wise :func:`otam_distance` (``Tq`` steps)
avoids. Benchmarks only; the package's own test reference is
:func:`~m2df_mmaction.models.layers.otam.otam_distance_reference` (float64).
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn


def otam_cell_by_cell(dists: Tensor,
                      lbda: float = 0.5,
                      bidirectional: bool = True) -> Tensor:
    """OTAM distance, one cell of the cumulative matrix at a time.

    Args:
        dists (Tensor): Frame distances ``[..., Tq, Ts]``.
        lbda (float): Soft-min temperature. Defaults to 0.5.
        bidirectional (bool): Add the pass on the transposed distances.
            Defaults to True.

    Returns:
        Tensor: ``[...]`` in the dtype of ``dists``.
    """

    def softmin(*values: Tensor) -> Tensor:
        return -lbda * torch.logsumexp(torch.stack(values, -1) / -lbda, -1)

    def one_pass(d: Tensor) -> Tensor:
        rows, cols = d.shape[-2:]
        padded = F.pad(d, (1, 1))  # a zero column on each side
        cum = torch.zeros_like(padded)
        cum[..., 0, :] = padded[..., 0, :].cumsum(-1)
        for l in range(1, rows):  # noqa: E741
            cum[..., l, 1] = padded[..., l, 1] + softmin(
                cum[..., l - 1, 0], cum[..., l - 1, 1], cum[..., l, 0])
            for m in range(2, cols + 1):
                cum[..., l, m] = padded[..., l, m] + softmin(
                    cum[..., l - 1, m - 1], cum[..., l, m - 1])
            cum[..., l, cols + 1] = softmin(cum[..., l - 1, cols],
                                            cum[..., l - 1, cols + 1],
                                            cum[..., l, cols])
        return cum[..., rows - 1, cols + 1]

    out = one_pass(dists)
    if bidirectional:
        out = out + one_pass(dists.transpose(-1, -2))
    return out


class CellByCellOTAM(nn.Module):
    """:func:`otam_cell_by_cell` as a drop-in for the heads' ``otam``.

    Args:
        lbda (float): Soft-min temperature. Defaults to 0.5.
        bidirectional (bool): Both directions. Defaults to True.
    """

    def __init__(self, lbda: float = 0.5, bidirectional: bool = True) -> None:
        super().__init__()
        self.lbda = lbda
        self.bidirectional = bidirectional

    def forward(self, dists: Tensor) -> Tensor:
        return otam_cell_by_cell(dists, self.lbda, self.bidirectional)
