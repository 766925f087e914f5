# Copyright (c) m2df_mmaction contributors.
from .trainable_only_constructor import TrainableOnlyOptimWrapperConstructor

__all__ = ['TrainableOnlyOptimWrapperConstructor']
