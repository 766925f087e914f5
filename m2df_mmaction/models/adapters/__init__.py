# Copyright (c) m2df_mmaction contributors.
"""Adapters: small trainable modules attached to a frozen encoder
(:class:`~m2df_mmaction.models.backbones.OpenCLIPAdapted`)."""
from .base_adapter import BaseAdapter, check_video_tokens
from .bottleneck_adapter import BottleneckAdapter
from .d2st_adapter import D2STAdapter
from .deformable_attention import ChannelLayerNorm3d, DeformableAttention3D
from .lora import LoRA

__all__ = [
    'BaseAdapter', 'check_video_tokens', 'BottleneckAdapter', 'D2STAdapter',
    'DeformableAttention3D', 'ChannelLayerNorm3d', 'LoRA'
]
