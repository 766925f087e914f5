# Copyright (c) m2df_mmaction contributors.
from .descriptions import ClassDescriptions, check_described
from .open_clip_text import OpenCLIPText

__all__ = ['OpenCLIPText', 'ClassDescriptions', 'check_described']
