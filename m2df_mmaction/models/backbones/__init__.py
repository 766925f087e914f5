# Copyright (c) m2df_mmaction contributors.
from .open_clip_visual import OpenCLIPVisual

__all__ = ['OpenCLIPVisual']
