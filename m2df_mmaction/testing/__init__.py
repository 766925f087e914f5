# Copyright (c) m2df_mmaction contributors.
"""Helpers for testing new heads, layers and losses (public API)."""
from .episodes import episode_data_samples, random_episode
from .pipelines import test_video_pipeline
from .schedules import step_schedule

__all__ = [
    'random_episode', 'episode_data_samples', 'test_video_pipeline',
    'step_schedule'
]
