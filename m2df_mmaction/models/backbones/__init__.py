# Copyright (c) m2df_mmaction contributors.
from .frame_features import (FEATURE_KINDS, FrameFeatureRequest, FrameFeatures,
                             check_frame_request, extract_frame_features,
                             frame_feature_dims, frame_feature_kinds)
from .open_clip_adapted import OpenCLIPAdapted
from .open_clip_side import OpenCLIPSide
from .open_clip_visual import OpenCLIPVisual
from .resnet_adapted import ResNetAdapted

__all__ = [
    'OpenCLIPVisual', 'OpenCLIPAdapted', 'OpenCLIPSide', 'ResNetAdapted',
    'FEATURE_KINDS',
    'FrameFeatureRequest', 'FrameFeatures', 'check_frame_request',
    'extract_frame_features', 'frame_feature_dims', 'frame_feature_kinds'
]
