# Copyright (c) m2df_mmaction contributors.
from .hooks import CorruptVideoHook, FiniteLossHook, IterationSeedHook
from .loops import (CachedEpisodicTestLoop, CachedEpisodicValLoop,
                    find_random_transforms)
from .runner import EpisodicTrainLoop

__all__ = [
    'CachedEpisodicTestLoop', 'CachedEpisodicValLoop', 'CorruptVideoHook',
    'EpisodicTrainLoop',
    'FiniteLossHook', 'IterationSeedHook', 'find_random_transforms'
]
