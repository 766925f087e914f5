# Copyright (c) m2df_mmaction contributors.
"""A plain bottleneck adapter after a block (Houlsby et al., 2019)."""
from typing import Optional

import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from .base_adapter import BaseAdapter

__all__ = ['BottleneckAdapter']


@MODELS.register_module()
class BottleneckAdapter(BaseAdapter):
    """``x + up(GELU(down(x)))`` on a block's output, per token.

    No temporal or spatial mixing: the simplest adapter, the baseline the
    video adapters improve on. ``up`` starts at zero.

    Args:
        embed_dims (int): Block width ``C`` (filled in by the encoder).
        num_frames (int): ``T`` (filled in; unused).
        scale (float): Bottleneck width ratio. Defaults to 0.25.
        zero_init (bool): Start ``up`` at zero. Defaults to True.
    """

    attach_to = 'block'

    def __init__(self,
                 embed_dims: int,
                 num_frames: int,
                 scale: float = 0.25,
                 zero_init: bool = True) -> None:
        super().__init__(embed_dims, num_frames)
        dims = max(1, int(embed_dims * scale))
        self.down = nn.Linear(embed_dims, dims)
        self.act = nn.GELU()
        self.up = nn.Linear(dims, embed_dims)
        if zero_init:
            nn.init.zeros_(self.up.weight)
            nn.init.zeros_(self.up.bias)

    def adapt(self, output: Tensor, inputs: Optional[Tensor] = None) -> Tensor:
        """``[..., C]`` -> ``[..., C]``; works on any channel-last output
        (ViT tokens)."""
        return output + self.up(self.act(self.down(output)))
