# Copyright (c) m2df_mmaction contributors.
"""Generators of the built-in synthetic benchmarks (demo and test data).

Not a dataset: these modules *write* videos and annotation files that
MMAction2's ``VideoDataset`` then reads like any other data.
"""
from .motion_benchmark import (CLASS_CATALOGUE, SPLITS, MotionClass,
                               VideoParams, get_split_classes, object_states,
                               render_video, sample_video_params,
                               write_benchmark, write_video)

__all__ = [
    'MotionClass', 'SPLITS', 'CLASS_CATALOGUE', 'VideoParams',
    'get_split_classes', 'sample_video_params', 'object_states',
    'render_video', 'write_video', 'write_benchmark'
]
