# Copyright (c) m2df_mmaction contributors.
from .cached_episodic_loop import (CachedEpisodicTestLoop,
                                   CachedEpisodicValLoop,
                                   find_random_transforms)

__all__ = [
    'CachedEpisodicTestLoop', 'CachedEpisodicValLoop',
    'find_random_transforms'
]
