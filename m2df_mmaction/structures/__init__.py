# Copyright (c) m2df_mmaction contributors.
from .episode import (FRAME_KINDS, HEAD_NEEDS, Episode, EpisodeLayout,
                      episode_layout, episode_targets)

__all__ = [
    'Episode', 'EpisodeLayout', 'episode_layout', 'episode_targets',
    'FRAME_KINDS', 'HEAD_NEEDS'
]
