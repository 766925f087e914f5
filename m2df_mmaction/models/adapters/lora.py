# Copyright (c) m2df_mmaction contributors.
"""LoRA (Hu et al., 2022) on a frozen linear layer."""
from typing import Optional

import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from .base_adapter import BaseAdapter

__all__ = ['LoRA']


@MODELS.register_module()
class LoRA(BaseAdapter):
    """Low-rank update of a frozen linear layer: ``W x + (alpha / r) B A x``.

    Attached to ``nn.Linear`` modules named in the encoder's adapter
    config (``targets``, e.g. a ViT block's ``mlp.c_fc`` and
    ``mlp.c_proj``): the layer's own output plus the update of its input.
    ``B`` starts at zero, ``A`` as Kaiming-uniform (the paper's
    initialisation), so the layer starts as the pretrained one.

    The attention's packed input projection of ``nn.MultiheadAttention``
    is not a module call (its weight goes to a functional kernel), so it
    cannot be targeted by a hook; target the MLP, or the attention of
    towers whose projections are ``nn.Linear`` modules.

    Args:
        embed_dims (int): Output features of the layer (filled in).
        num_frames (int): ``T`` (filled in; unused).
        in_features (int): Input features of the layer (filled in).
        rank (int): ``r``. Defaults to 4.
        alpha (float): Scale numerator. Defaults to ``rank`` (scale 1).
    """

    attach_to = 'linear'

    def __init__(self,
                 embed_dims: int,
                 num_frames: int,
                 in_features: int,
                 rank: int = 4,
                 alpha: Optional[float] = None) -> None:
        super().__init__(embed_dims, num_frames)
        self.rank = rank
        self.scaling = (rank if alpha is None else alpha) / rank
        self.lora_a = nn.Linear(in_features, rank, bias=False)
        self.lora_b = nn.Linear(rank, embed_dims, bias=False)
        nn.init.kaiming_uniform_(self.lora_a.weight, a=5**0.5)
        nn.init.zeros_(self.lora_b.weight)

    def adapt(self, output: Tensor, inputs: Optional[Tensor] = None) -> Tensor:
        """``output + scaling * B A inputs`` (any leading shape)."""
        return output + self.scaling * self.lora_b(self.lora_a(inputs))
