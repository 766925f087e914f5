# Copyright (c) m2df_mmaction contributors.
from .checkpoint_check import check_checkpoint_matches
from .compat import allow_mmengine_checkpoint_globals, patch_missing_drn
from .config_errors import (check_cfg_options, explain_registry_error,
                            registry_hints)
from .denormal import (flush_denormal_enabled, flush_denormal_for_device,
                       flush_denormal_setting, set_flush_denormal)
from .fewshot_dataset import apply_fewshot_dataset
from .runtime import close_distributed, use_gloo_on_cpu
from .schedule import scale_schedule, world_size_of_launcher

__all__ = [
    'check_checkpoint_matches',
    'allow_mmengine_checkpoint_globals', 'patch_missing_drn',
    'check_cfg_options', 'explain_registry_error', 'registry_hints',
    'flush_denormal_enabled', 'flush_denormal_for_device',
    'flush_denormal_setting', 'set_flush_denormal',
    'close_distributed', 'use_gloo_on_cpu', 'scale_schedule',
    'world_size_of_launcher', 'apply_fewshot_dataset'
]
