# Copyright (c) m2df_mmaction contributors.
from .class_names import load_class_names
from .episodic import EpisodicDataset
from .fewshot_splits import FewShotSplit, load_fewshot_split
from .pipeline_check import (find_random_transforms,
                             pipeline_differs_across_seeds)
from .samplers import ResumableInfiniteSampler
from .transforms import *  # noqa: F401,F403

__all__ = [
    'EpisodicDataset', 'ResumableInfiniteSampler', 'load_class_names',
    'FewShotSplit', 'load_fewshot_split', 'find_random_transforms',
    'pipeline_differs_across_seeds'
]
