# Copyright (c) m2df_mmaction contributors.
from .hooks import (CorruptVideoHook, FiniteLossHook, FlushDenormalHook,
                    IterationSeedHook)
from .loops import CachedEpisodicTestLoop, CachedEpisodicValLoop
from .optimizers import TrainableOnlyOptimWrapperConstructor
from .runner import EpisodicTrainLoop

__all__ = [
    'CachedEpisodicTestLoop', 'CachedEpisodicValLoop', 'CorruptVideoHook',
    'EpisodicTrainLoop', 'FiniteLossHook', 'FlushDenormalHook',
    'IterationSeedHook', 'TrainableOnlyOptimWrapperConstructor'
]
