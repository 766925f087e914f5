# Copyright (c) m2df_mmaction contributors.
from .color_jitter import VideoColorJitter
from .loading import VideoOrFramesDecode, VideoOrFramesInit
from .sampling import IntervalSampleFrames, LinspaceSampleFrames

__all__ = [
    'IntervalSampleFrames', 'LinspaceSampleFrames', 'VideoColorJitter',
    'VideoOrFramesInit', 'VideoOrFramesDecode'
]
