# Copyright (c) m2df_mmaction contributors.
from .episodic_accuracy import EpisodicAccuracy

__all__ = ['EpisodicAccuracy']
