# Copyright (c) m2df_mmaction contributors.
"""Temporal context encoders of CLIP-M2DF (LTCE and GTCE).

Both take frame features ``[..., T, D]`` (any leading dims, e.g.
``[B, V, T, D]``) and return the same shape; they convolve along time with
``D`` channels.
"""
from typing import Sequence

import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

__all__ = ['LocalTemporalContext', 'GlobalTemporalContext', 'TemporalBlock']


def _as_channels_first(x: Tensor) -> Tensor:
    """``[..., T, D]`` -> ``[prod(...), D, T]`` for ``nn.Conv1d``."""
    if x.dim() < 2:
        raise ValueError(f'expected [..., T, D], got {tuple(x.shape)}')
    return x.reshape(-1, *x.shape[-2:]).transpose(1, 2)


@MODELS.register_module()
class LocalTemporalContext(nn.Module):
    """Local temporal context (LTCE): stacked temporal convolutions.

    .. math:: L = \\mathrm{Conv}_2(\\mathrm{Conv}_1(F))

    Each convolution maps ``D -> D`` with kernel 3 and padding 1 along time,
    with no activation or normalisation in between (as the official code).
    Two layers give a receptive field of 5 frames.

    Args:
        in_channels (int): Feature dim ``D``.
        kernel_size (int): Odd temporal kernel size. Defaults to 3.
        num_layers (int): Number of convolutions. Defaults to 2.
    """

    def __init__(self,
                 in_channels: int,
                 kernel_size: int = 3,
                 num_layers: int = 2) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.convs = nn.Sequential(*[
            nn.Conv1d(
                in_channels,
                in_channels,
                kernel_size,
                padding=kernel_size // 2) for _ in range(num_layers)
        ])

    def forward(self, x: Tensor) -> Tensor:
        """Encode.

        Args:
            x (Tensor): Frame features ``[..., T, D]``.

        Returns:
            Tensor: Local context features ``[..., T, D]``.
        """
        out = self.convs(_as_channels_first(x))
        return out.transpose(1, 2).reshape(x.shape)


class TemporalBlock(nn.Module):
    """One residual causal block of a TCN (Bai et al., 2018).

    ``x -> [WN-conv(dilated, causal) -> ReLU -> Dropout] x 2 -> + x -> ReLU``.
    Causality is obtained by padding ``(k - 1) * dilation`` frames on the
    left only, which equals the reference "pad both sides, then chomp the
    right end" and saves the wasted outputs. The weight-normed convolutions
    keep PyTorch's default Conv1d initialisation with ``g = ||v||``: that is
    the effective initialisation of the official code, whose
    ``normal_(0, 0.01)`` init is overwritten by legacy ``weight_norm``.

    Args:
        channels (int): Input and output channels ``D``.
        kernel_size (int): Temporal kernel size.
        dilation (int): Temporal dilation.
        dropout (float): Dropout after each ReLU.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int,
                 dropout: float) -> None:
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv1 = weight_norm(
            nn.Conv1d(channels, channels, kernel_size, dilation=dilation))
        self.conv2 = weight_norm(
            nn.Conv1d(channels, channels, kernel_size, dilation=dilation))
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block to ``x`` ``[B, D, T]``; returns ``[B, D, T]``."""
        out = self.dropout1(F.relu(self.conv1(F.pad(x, (self.left_pad, 0)))))
        out = self.dropout2(F.relu(self.conv2(F.pad(out, (self.left_pad, 0)))))
        return F.relu(out + x)


@MODELS.register_module()
class GlobalTemporalContext(nn.Module):
    """Global temporal context (GTCE): a causal TCN summary added to frames.

    .. math::

        g = \\mathrm{TCN}(F)_{T-1}, \\qquad G = F + \\mathbf{1}_T g^\\top

    The TCN has ``len(dilations)`` residual causal blocks (dilations 1, 2, 4,
    kernel 3: receptive field 29 frames), so its last time step summarises
    the whole clip; ``T`` is read from the input.

    Args:
        in_channels (int): Feature dim ``D``.
        kernel_size (int): Temporal kernel size. Defaults to 3.
        dilations (Sequence[int]): Dilation of each block. Defaults to
            ``(1, 2, 4)``.
        dropout (float): Dropout inside the blocks. Defaults to 0.1.
    """

    def __init__(self,
                 in_channels: int,
                 kernel_size: int = 3,
                 dilations: Sequence[int] = (1, 2, 4),
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[
            TemporalBlock(in_channels, kernel_size, dilation, dropout)
            for dilation in dilations
        ])

    def trunk(self, x: Tensor) -> Tensor:
        """Causal TCN features of every frame.

        Args:
            x (Tensor): Frame features ``[..., T, D]``.

        Returns:
            Tensor: ``[..., T, D]``; frame ``t`` depends on frames ``<= t``.
        """
        out = self.blocks(_as_channels_first(x))
        return out.transpose(1, 2).reshape(x.shape)

    def forward(self, x: Tensor) -> Tensor:
        """Encode.

        Args:
            x (Tensor): Frame features ``[..., T, D]``.

        Returns:
            Tensor: ``x`` plus the last step of the TCN broadcast over time,
            ``[..., T, D]``.
        """
        return x + self.trunk(x)[..., -1:, :]
