# Copyright (c) m2df_mmaction contributors.
from .corrupt_video_hook import CorruptVideoHook
from .finite_loss_hook import FiniteLossHook
from .flush_denormal_hook import FlushDenormalHook
from .iteration_seed_hook import IterationSeedHook

__all__ = [
    'CorruptVideoHook', 'FiniteLossHook', 'FlushDenormalHook',
    'IterationSeedHook'
]
