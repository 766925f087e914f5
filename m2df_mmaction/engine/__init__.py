# Copyright (c) m2df_mmaction contributors.
from .hooks import FiniteLossHook, RandomStateHook
from .loops import (CachedEpisodicTestLoop, CachedEpisodicValLoop,
                    find_random_transforms)
from .runner import EpisodicTrainLoop

__all__ = [
    'CachedEpisodicTestLoop', 'CachedEpisodicValLoop', 'EpisodicTrainLoop',
    'FiniteLossHook', 'RandomStateHook', 'find_random_transforms'
]
