# Copyright (c) m2df_mmaction contributors.
from .compat import allow_mmengine_checkpoint_globals, patch_missing_drn

__all__ = ['allow_mmengine_checkpoint_globals', 'patch_missing_drn']
