# Copyright (c) m2df_mmaction contributors.
from .hooks import FiniteLossHook, IterationSeedHook
from .loops import (CachedEpisodicTestLoop, CachedEpisodicValLoop,
                    find_random_transforms)
from .runner import EpisodicTrainLoop

__all__ = [
    'CachedEpisodicTestLoop', 'CachedEpisodicValLoop', 'EpisodicTrainLoop',
    'FiniteLossHook', 'IterationSeedHook', 'find_random_transforms'
]
