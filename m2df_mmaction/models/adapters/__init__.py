# Copyright (c) m2df_mmaction contributors.
"""Adapters: small trainable modules attached to a frozen encoder
(:class:`~m2df_mmaction.models.backbones.OpenCLIPAdapted`,
:class:`~m2df_mmaction.models.backbones.ResNetAdapted`)."""
from .base_adapter import BaseAdapter, check_video_tokens
from .bottleneck_adapter import BottleneckAdapter
from .d2st_adapter import D2STAdapter
from .d2st_resnet_adapter import D2STResNetAdapter
from .deformable_attention import ChannelLayerNorm3d, DeformableAttention3D
from .lora import LoRA

__all__ = [
    'BaseAdapter', 'check_video_tokens', 'BottleneckAdapter', 'D2STAdapter',
    'D2STResNetAdapter',
    'DeformableAttention3D', 'ChannelLayerNorm3d', 'LoRA'
]
