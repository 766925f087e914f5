# Copyright (c) m2df_mmaction contributors.
"""What every adapter shares: where it attaches and how it runs.

An adapter is a small trainable module attached to a module of a frozen
encoder (a transformer block, or a linear layer inside one) by a forward
hook, so the encoder's own modules, state-dict keys and pretrained weights
stay untouched: a full CLIP checkpoint still loads strictly, and the
adapters' parameters live apart (``adapters.<i>.*`` of the encoder).

The hook is a bound method of the adapter (:meth:`BaseAdapter.hook`), so a
``copy.deepcopy`` of the encoder (EMA models, model soups) rewires the copy
to its own adapters.
"""
from typing import Optional, Tuple

import torch.nn as nn
from torch import Tensor

__all__ = ['BaseAdapter', 'check_video_tokens']


class BaseAdapter(nn.Module):
    """Base class of adapters.

    Subclasses set :attr:`attach_to` and implement :meth:`adapt`.

    - ``attach_to = 'block'``: the adapter is attached to a transformer
      block and maps the block's output to a new output, ``adapt(output)``.
    - ``attach_to = 'stage'``: attached to a ResNet stage (``layer1``..
      ``layer4`` of :class:`~m2df_mmaction.models.backbones.ResNetAdapted`)
      and maps its ``[B*T, C, H, W]`` output, ``adapt(output)``; the
      encoder also fills in ``stage``.
    - ``attach_to = 'linear'``: attached to a linear layer named in the
      encoder's adapter config; it gets the layer's input and output and
      returns the new output, ``adapt(output, input)``.

    Args:
        embed_dims (int): Channels of the output the adapter sees (filled
            in by the encoder).
        num_frames (int): Frames per video ``T`` in the flat frame batch
            ``[B*T, ...]`` (filled in by the encoder).
    """

    #: Where the adapter attaches: ``'block'``, ``'linear'`` or ``'stage'``.
    attach_to: str = 'block'

    def __init__(self, embed_dims: int, num_frames: int) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.num_frames = num_frames

    def adapt(self, output: Tensor, inputs: Optional[Tensor] = None) -> Tensor:
        """The adapted output (see the class docstring)."""
        raise NotImplementedError

    def hook(self, module: nn.Module, inputs: Tuple, output: Tensor) -> Tensor:
        """Forward hook: replaces ``module``'s output by the adapted one."""
        if isinstance(output, tuple):  # blocks that return (x, extras)
            return (self.adapt(output[0], inputs[0]), *output[1:])
        return self.adapt(output, inputs[0] if inputs else None)


def check_video_tokens(x: Tensor, num_frames: int, owner: str) -> int:
    """Check a ``[B*T, 1 + H*W, C]`` token batch and return ``H``.

    Raises:
        ValueError: if the batch does not split into videos of
            ``num_frames`` frames or the patch tokens are not a square grid.
    """
    if x.dim() != 3:
        raise ValueError(f'{owner} adapts [B*T, 1 + H*W, C] ViT tokens '
                         f'(batch first), got shape {tuple(x.shape)}.')
    if x.shape[0] % num_frames:
        raise ValueError(
            f'{owner}: {x.shape[0]} frames do not split into videos of '
            f'num_frames={num_frames}; set the encoder option num_frames to '
            'the clips\' frame count (the pipeline\'s num_clips).')
    side = round((x.shape[1] - 1)**0.5)
    if side * side != x.shape[1] - 1:
        raise ValueError(f'{owner}: {x.shape[1] - 1} patch tokens are not '
                         'a square grid (the class token first).')
    return side
