# Copyright (c) m2df_mmaction contributors.
from .class_names import load_class_names
from .episodic import EpisodicDataset
from .samplers import ResumableInfiniteSampler

__all__ = ['EpisodicDataset', 'ResumableInfiniteSampler', 'load_class_names']
