# Copyright (c) m2df_mmaction contributors.
from .open_clip_text import OpenCLIPText

__all__ = ['OpenCLIPText']
