# Copyright (c) m2df_mmaction contributors.
from .episodic_train_loop import EpisodicTrainLoop

__all__ = ['EpisodicTrainLoop']
