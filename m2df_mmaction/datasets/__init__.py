# Copyright (c) m2df_mmaction contributors.
from .class_names import load_class_names
from .episodic import EpisodicDataset

__all__ = ['EpisodicDataset', 'load_class_names']
