# Copyright (c) m2df_mmaction contributors.
from .cached_episodic_loop import CachedEpisodicTestLoop, CachedEpisodicValLoop

__all__ = ['CachedEpisodicTestLoop', 'CachedEpisodicValLoop']
