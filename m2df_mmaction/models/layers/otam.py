# Copyright (c) m2df_mmaction contributors.
"""OTAM: ordered temporal alignment by a cumulative soft-min.

OTAM (Cao et al., CVPR 2020) scores a query video against a support video
by a differentiable dynamic-time-warping over their frame distance matrix.
CLIP-FSAR and CLIP-M2DF use the same recurrence (docs/method.md §1.3 e).

With ``D`` of shape ``[Tq, Ts]`` padded by one zero column on each side
(``Dp``, shape ``[Tq, Ts + 2]``, real columns ``1..Ts``) the cumulative
cost ``C`` is

.. math::

    C_{0,m} &= \\sum_{j \\le m} Dp_{0,j} \\\\
    C_{l,0} &= 0 \\\\
    C_{l,1} &= Dp_{l,1} + \\mathrm{softmin}_\\lambda(C_{l-1,0}, C_{l-1,1},
               C_{l,0}) \\\\
    C_{l,m} &= Dp_{l,m} + \\mathrm{softmin}_\\lambda(C_{l-1,m-1}, C_{l,m-1})
               \\quad 2 \\le m \\le Ts \\\\
    C_{l,Ts+1} &= \\mathrm{softmin}_\\lambda(C_{l-1,Ts}, C_{l-1,Ts+1},
                  C_{l,Ts})

with :math:`\\mathrm{softmin}_\\lambda(a, \\dots) = -\\lambda \\log \\sum
\\exp(-a / \\lambda)` and the distance :math:`C_{Tq-1, Ts+1}`.

Fast formulation used here. In log space, :math:`a = -C / \\lambda` and
:math:`x = -D / \\lambda`, the middle-column recurrence of a row is the
*linear* recurrence :math:`e_m = w_m (e_{m-1} + u_m)` in
:math:`e = \\exp(a)`. Its closed form is

.. math::

    a_{l,m} = S_m + \\mathrm{logcumsumexp}_{j \\le m}(z_j), \\quad
    S_m = \\sum_{i=2}^{m} x_{l,i}, \\quad
    z_1 = a_{l,1}, \\; z_j = a_{l-1,j-1} - S_{j-1},

so each row costs a handful of vector ops (one ``logcumsumexp``) over all
leading dims at once: ``Tq`` steps in total instead of one Python op per
cell as in the official code. On a CPU the ``logcumsumexp`` is taken by
shifting, ``exp``, ``cumsum`` and ``log`` (:func:`_logcumsumexp`). The
arithmetic runs in float32 (float64 for float64 inputs), which keeps it
accurate under ``torch.autocast``.
"""
import math
from typing import NamedTuple

import numpy as np
import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

__all__ = [
    'otam_distance', 'otam_distance_reference', 'OTAM', 'OTAMAlignment',
    'otam_alignment'
]

_LOG2 = 0.6931471805599453


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Float64 stays float64; everything else is computed in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _logcumsumexp(z: Tensor) -> Tensor:
    """``torch.logcumsumexp(z, -1)``, several times faster on a CPU.

    torch's CPU kernel is a scalar loop (about 25 ns an element, 60% of an
    OTAM head at test time); shifting each row by its maximum ``c`` and
    taking ``c + log(cumsum(exp(z - c)))`` runs vectorised, 5-7x faster.
    Every prefix sum then holds ``exp(z_0 - c)``, so it is exact to float
    rounding while that term is a normal number; a row whose first entry
    lies further below its maximum (by more than 80 in float32, 700 in
    float64: far outside what OTAM's distances give) or with non-finite
    entries takes torch's kernel. The check reads one value on the host, so
    on other devices torch's kernel (one launch) is used as it is.

    Args:
        z (Tensor): ``[..., L]``.

    Returns:
        Tensor: ``[..., L]``.
    """
    if z.device.type != 'cpu':
        return torch.logcumsumexp(z, -1)
    top = z.detach().amax(-1, keepdim=True)
    limit = -math.log(torch.finfo(z.dtype).tiny) - 7  # 80 / 701
    if not bool((top - z.detach()[..., :1] <= limit).all()):
        return torch.logcumsumexp(z, -1)  # far-apart or non-finite values
    return (z - top).exp().cumsum(-1).log() + top


def _otam_one_direction(dists: Tensor, lbda: float) -> Tensor:
    """One OTAM pass, rows over ``dists[..., Tq, :]``, columns over Ts.

    Args:
        dists (Tensor): Frame distances ``[..., Tq, Ts]`` in the compute
            dtype.
        lbda (float): Soft-min temperature :math:`\\lambda`.

    Returns:
        Tensor: Cumulative distances ``[...]``.
    """
    x = dists / -lbda  # log-space cell weights, [..., Tq, Ts]
    num_rows = x.size(-2)
    # S_m of every row at once: running sums over real columns 2..m.
    s_all = torch.cat([torch.zeros_like(x[..., :1]), x[..., 1:].cumsum(-1)],
                      -1)
    s_head = s_all[..., :-1]
    x_first = x[..., :1]
    log2 = x.new_tensor(_LOG2)
    # Row 0: a plain running sum.
    prev = x[..., 0, :].cumsum(-1)  # a[0, 1..Ts]
    last_real = [prev[..., -1]]  # a[l, Ts] of every row
    for row in range(1, num_rows):
        # First real column: parents (l-1, 0) = 0, (l-1, 1), (l, 0) = 0.
        first = x_first[..., row, :] + torch.logaddexp(prev[..., :1], log2)
        # Middle columns in closed form (see the module docstring).
        z = torch.cat([first, prev[..., :-1] - s_head[..., row, :]], -1)
        prev = s_all[..., row, :] + _logcumsumexp(z)
        last_real.append(prev[..., -1])
    # Right pad column: a[l, Ts+1] = lse(a[l-1, Ts], a[l-1, Ts+1], a[l, Ts])
    # with a[0, Ts+1] = a[0, Ts] unrolls to one log-sum-exp over the rows:
    # lse(a[0, Ts] + log 2, ..., a[Tq-2, Ts] + log 2, a[Tq-1, Ts]).
    last = torch.stack(last_real)
    last = torch.cat([last[:-1] + log2, last[-1:]])
    return torch.logsumexp(last, 0) * -lbda


def otam_distance(dists: Tensor,
                  lbda: float = 0.5,
                  bidirectional: bool = True) -> Tensor:
    """OTAM cumulative alignment distance, batched over leading dims.

    Args:
        dists (Tensor): Frame distances ``[..., Tq, Ts]`` (any leading dims,
            e.g. ``[B, NQ, N, Tq, Ts]``), typically
            ``1 - cos(query frame, support frame)``. ``Tq != Ts`` is fine.
        lbda (float): Soft-min temperature :math:`\\lambda`. Defaults to 0.5
            (CLIP-FSAR / CLIP-M2DF).
        bidirectional (bool): If True return the sum of the pass on ``D``
            (query to support) and the pass on ``D^T`` (support to query),
            as the official code does unless ``SINGLE_DIRECT``.
            Defaults to True.

    Returns:
        Tensor: Distances ``[...]`` in the dtype of ``dists``. The
        recurrence itself runs in float32 (float64 for float64 inputs);
        pass float32 distances to keep a float32 result under autocast.
    """
    if dists.dim() < 2:
        raise ValueError('dists must be [..., Tq, Ts], got shape '
                         f'{tuple(dists.shape)}')
    if lbda <= 0:
        raise ValueError(f'lbda must be positive, got {lbda}')
    out_dtype = dists.dtype
    d = dists.to(_compute_dtype(out_dtype))
    if not bidirectional:
        return _otam_one_direction(d, lbda).to(out_dtype)
    d_t = d.transpose(-1, -2)
    if d.size(-1) == d.size(-2):
        # Square: run both directions as one batched pass.
        both = _otam_one_direction(torch.stack([d, d_t]), lbda)
        out = both[0] + both[1]
    else:
        out = _otam_one_direction(d, lbda) + _otam_one_direction(d_t, lbda)
    return out.to(out_dtype)


def otam_distance_reference(dists: Tensor,
                            lbda: float = 0.5,
                            bidirectional: bool = True) -> Tensor:
    """Slow cell-by-cell OTAM, written straight from the recurrence.

    Only for tests and benchmarks: it fills the padded cumulative matrix one
    cell at a time (one set of Python-level ops per cell), in float64.

    Args:
        dists (Tensor): Frame distances ``[..., Tq, Ts]``.
        lbda (float): Soft-min temperature. Defaults to 0.5.
        bidirectional (bool): Add the pass on the transposed distances.
            Defaults to True.

    Returns:
        Tensor: Distances ``[...]`` in float64.
    """

    def softmin(*vals: Tensor) -> Tensor:
        return -lbda * torch.logsumexp(torch.stack(vals, -1) / -lbda, -1)

    def one_pass(d: Tensor) -> Tensor:
        rows, cols = d.shape[-2:]
        zero = d.new_zeros(d.shape[:-2])
        # cum[l][m] over the padded grid, m = 0..cols+1.
        cum = [[zero] * (cols + 2) for _ in range(rows)]

        def cell(l: int, m: int) -> Tensor:  # noqa: E741
            return d[..., l, m - 1] if 1 <= m <= cols else zero

        for m in range(1, cols + 2):
            cum[0][m] = cum[0][m - 1] + cell(0, m)
        for l in range(1, rows):  # noqa: E741
            cum[l][1] = cell(l, 1) + softmin(cum[l - 1][0], cum[l - 1][1],
                                             cum[l][0])
            for m in range(2, cols + 1):
                cum[l][m] = cell(l, m) + softmin(cum[l - 1][m - 1],
                                                 cum[l][m - 1])
            cum[l][cols + 1] = softmin(cum[l - 1][cols], cum[l - 1][cols + 1],
                                       cum[l][cols])
        return cum[rows - 1][cols + 1]

    d = dists.to(torch.float64)
    out = one_pass(d)
    if bidirectional:
        out = out + one_pass(d.transpose(-1, -2))
    return out


@MODELS.register_module()
class OTAM(nn.Module):
    """OTAM alignment distance as a module, so heads can build it from config.

    Args:
        lbda (float): Soft-min temperature :math:`\\lambda`. Defaults to 0.5.
        bidirectional (bool): Sum the query-to-support and support-to-query
            passes. Defaults to True.
    """

    def __init__(self, lbda: float = 0.5, bidirectional: bool = True) -> None:
        super().__init__()
        if lbda <= 0:
            raise ValueError(f'lbda must be positive, got {lbda}')
        self.lbda = float(lbda)
        self.bidirectional = bool(bidirectional)

    def forward(self, dists: Tensor) -> Tensor:
        """Align.

        Args:
            dists (Tensor): Frame distances ``[..., Tq, Ts]``.

        Returns:
            Tensor: Distances ``[...]``.
        """
        return otam_distance(dists, self.lbda, self.bidirectional)

    def explain(self, dists: Tensor) -> 'OTAMAlignment':
        """Which frames this alignment matched: the alignment-layer half of
        the head contract (``BaseFewShotHead.explain``), so that the
        inference API and the analysis tools draw what the head used.

        Args:
            dists (Tensor): Frame distances ``[..., Tq, Ts]``, as given to
                :meth:`forward`.

        Returns:
            OTAMAlignment: ``soft`` ``[..., Tq, Ts]`` and bool ``path``
            (:func:`otam_alignment` with this layer's settings).
        """
        return otam_alignment(dists, self.lbda, self.bidirectional)

    def extra_repr(self) -> str:
        return f'lbda={self.lbda}, bidirectional={self.bidirectional}'


class OTAMAlignment(NamedTuple):
    """Frame alignment found by OTAM (:func:`otam_alignment`).

    Attributes:
        soft (Tensor): ``[..., Tq, Ts]`` soft alignment, the gradient
            :math:`\\partial d / \\partial D` of the OTAM distance with
            respect to the frame distances: the expected number of times the
            soft-min's distribution over alignment paths visits each cell.
            One pass gives values in ``[0, 1]`` per cell; the bidirectional
            distance sums the query-to-support pass and the (transposed)
            support-to-query pass, so its cells are in ``[0, 2]``.
        path (Tensor): ``[..., Tq, Ts]`` bool, the cells of the best path of
            the query-to-support pass under the hard-min recurrence
            (:math:`\\lambda \\to 0`) with the same padding. Every support
            frame ``m >= 1`` is on the path exactly once, support frame 0 one
            or more times (consecutive query frames); query frames before the
            path enters and after it leaves are matched to the zero padding.
    """
    soft: Tensor
    path: Tensor


def _hard_path(dists: np.ndarray) -> np.ndarray:
    """Backtrack the hard-min OTAM recurrence of the module docstring.

    Ties go to the diagonal move, then the horizontal one, then the
    vertical one, then leaving the path into the zero padding.

    Args:
        dists (np.ndarray): ``[L, Tq, Ts]`` float64 frame distances.

    Returns:
        np.ndarray: ``[L, Tq, Ts]`` bool path cells.
    """
    num, rows, cols = dists.shape
    dp = np.zeros((num, rows, cols + 2))
    dp[:, :, 1:cols + 1] = dists
    cum = np.zeros_like(dp)
    cum[:, 0] = np.cumsum(dp[:, 0], axis=-1)
    for l in range(1, rows):  # noqa: E741
        cum[:, l, 1] = dp[:, l, 1] + np.minimum(cum[:, l - 1, 1], 0.0)
        for m in range(2, cols + 1):
            cum[:, l, m] = dp[:, l, m] + np.minimum(cum[:, l - 1, m - 1],
                                                    cum[:, l, m - 1])
        cum[:, l, cols + 1] = np.minimum(
            np.minimum(cum[:, l - 1, cols], cum[:, l, cols]),
            cum[:, l - 1, cols + 1])
    path = np.zeros((num, rows, cols + 2), dtype=bool)
    for i in range(num):
        c = cum[i]
        l, m = rows - 1, cols + 1  # noqa: E741
        while m > 0:
            path[i, l, m] = True
            if l == 0:
                m -= 1  # row 0 is a plain running sum
                continue
            if m == cols + 1:
                # diagonal, horizontal, vertical (the pad column is free)
                moves = ((l - 1, m - 1), (l, m - 1), (l - 1, m))
            elif m >= 2:
                moves = ((l - 1, m - 1), (l, m - 1))
            else:  # m == 1: stay on column 1 or leave to the zero padding
                if c[l - 1, 1] < 0.0:
                    l -= 1  # noqa: E741
                else:
                    m = 0
                continue
            l, m = min(moves, key=lambda cell: c[cell])  # noqa: E741
    return path[:, :, 1:cols + 1]


def otam_alignment(frame_dists: Tensor,
                   lbda: float = 0.5,
                   bidirectional: bool = True) -> OTAMAlignment:
    """Which frames OTAM aligns: the soft alignment and the hard path.

    The OTAM distance is a soft-min over monotone alignment paths, so its
    gradient with respect to the frame distances is the soft alignment: how
    much each (query frame, support frame) cell contributes to the distance.
    The hard path is the single best path of the same recurrence with a
    hard min (backtracked), the picture to draw.

    Works under ``torch.no_grad()`` and ``torch.inference_mode()`` (the
    gradient is taken on a detached copy) and never changes ``frame_dists``.

    Args:
        frame_dists (Tensor): ``[..., Tq, Ts]`` frame distances, e.g. the
            ``frame_distances`` ``[B, NQ, N, T, T]`` that the OTAM-based
            heads return (query frames by class-prototype frames).
        lbda (float): Soft-min temperature :math:`\\lambda`, as the head's.
            Defaults to 0.5.
        bidirectional (bool): Differentiate the bidirectional distance (as
            the heads use it) or the query-to-support pass alone. The hard
            path is always that of the query-to-support pass. Defaults to
            True.

    Returns:
        OTAMAlignment: ``soft`` in the dtype of ``frame_dists`` and
        ``path`` (bool), both ``[..., Tq, Ts]`` on its device.

    Example:
        >>> d = 1 - torch.eye(4)  # frame t of the query matches frame t
        >>> otam_alignment(d).path.int()
        tensor([[1, 0, 0, 0],
                [0, 1, 0, 0],
                [0, 0, 1, 0],
                [0, 0, 0, 1]], dtype=torch.int32)
    """
    if frame_dists.dim() < 2:
        raise ValueError('frame_dists must be [..., Tq, Ts], got shape '
                         f'{tuple(frame_dists.shape)}')
    if lbda <= 0:
        raise ValueError(f'lbda must be positive, got {lbda}')
    with torch.inference_mode(False), torch.enable_grad():
        dists = frame_dists.detach().clone().to(
            _compute_dtype(frame_dists.dtype)).requires_grad_(True)
        distance = otam_distance(dists, lbda, bidirectional)
        (soft, ) = torch.autograd.grad(distance.sum(), dists)
    shape = frame_dists.shape
    hard = _hard_path(
        frame_dists.detach().to('cpu', torch.float64).reshape(
            -1, *shape[-2:]).numpy())
    return OTAMAlignment(
        soft=soft.to(frame_dists.dtype),
        path=torch.from_numpy(hard).reshape(shape).to(frame_dists.device))
