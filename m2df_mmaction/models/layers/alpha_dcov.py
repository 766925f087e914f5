# Copyright (c) m2df_mmaction contributors.
"""α-distance covariance of a frame's tokens (TS-FSAR's frame descriptor)."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

__all__ = ['AlphaDistanceCovariance']


@MODELS.register_module()
class AlphaDistanceCovariance(nn.Module):
    """The α-distance covariance matrix of ``C`` channels observed at ``P``
    tokens, as its upper triangle.

    TS-FSAR ``trainers/ts_fsar.py`` ``Alpha_DC`` (after DeepBDC): with
    ``X`` ``[C, P]`` and ``G = X Xᵀ / (2P)``,

    .. math::

        d_{ij} &= (G_{ii} + G_{jj} - 2 G_{ij})_+ \\\\
        a_{ij} &= (d_{ij} + 10^{-5})^{\\alpha} \\\\
        A &= a - \\bar a_{i\\cdot} - \\bar a_{\\cdot j} + \\bar a

    (double centring) and the output is ``A``'s upper triangle, row by row
    (``C (C + 1) / 2`` values). The official code centres by products with
    all-ones matrices; the row, column and grand means here are the same
    numbers, with fewer operations. It runs in float32 even under autocast
    (the official run takes it in fp16): the ``(·)^α`` of squared distances
    near zero is where half precision loses the most.

    Args:
        alpha (float): ``TRAIN.DC_ALPHA``. Defaults to 0.4.
        eps (float): Added before the power. Defaults to 1e-5 (official).
    """

    def __init__(self, alpha: float = 0.4, eps: float = 1e-5) -> None:
        super().__init__()
        self.alpha = alpha
        self.eps = eps
        self._triu = None

    def forward(self, x: Tensor) -> Tensor:
        """``[..., C, P]`` -> ``[..., C (C + 1) / 2]`` (float32)."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float()
            gram = x @ x.transpose(-1, -2) / (2 * x.shape[-1])
            diag = gram.diagonal(dim1=-2, dim2=-1)
            dist = (diag.unsqueeze(-1) + diag.unsqueeze(-2) - 2 * gram)
            a = (dist.clamp(min=0) + self.eps).pow(self.alpha)
            a = a - a.mean(-1, keepdim=True) - a.mean(-2, keepdim=True) + \
                a.mean((-2, -1), keepdim=True)
            return a.flatten(-2)[..., self._triu_index(x)]

    def _triu_index(self, x: Tensor) -> Tensor:
        """Flat indices of the upper triangle, made once per device."""
        c = x.shape[-2]
        if self._triu is None or self._triu.device != x.device or \
                self._triu.numel() != c * (c + 1) // 2:
            rows, cols = torch.triu_indices(c, c, device=x.device)
            self._triu = rows * c + cols
        return self._triu

    @staticmethod
    def output_dims(channels: int) -> int:
        """``C (C + 1) / 2``."""
        return channels * (channels + 1) // 2
