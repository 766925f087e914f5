# Copyright (c) m2df_mmaction contributors.
from .color_jitter import VideoColorJitter
from .sampling import IntervalSampleFrames, LinspaceSampleFrames

__all__ = ['IntervalSampleFrames', 'LinspaceSampleFrames', 'VideoColorJitter']
