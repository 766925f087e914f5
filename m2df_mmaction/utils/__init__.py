# Copyright (c) m2df_mmaction contributors.
from .checkpoint_check import (check_checkpoint_file,
                               check_checkpoint_matches,
                               check_checkpoint_model, load_checkpoint_file)
from .compat import allow_mmengine_checkpoint_globals, patch_missing_drn
from .config_errors import (check_cfg_options, explain_registry_error,
                            registry_hints)
from .denormal import (flush_denormal_enabled, flush_denormal_for_device,
                       flush_denormal_setting, set_flush_denormal)
from .errors import (UserInputError, UserKeyError, install_excepthook,
                     is_input_error, run_main)
from .fewshot_dataset import apply_fewshot_dataset
from .input_checks import (check_amp, check_data_files, check_device,
                           check_head_classes, fix_persistent_workers)
from .runtime import close_distributed, use_gloo_on_cpu
from .schedule import scale_schedule, world_size_of_launcher

__all__ = [
    'check_checkpoint_file', 'check_checkpoint_matches',
    'check_checkpoint_model',
    'load_checkpoint_file', 'UserInputError', 'UserKeyError',
    'install_excepthook', 'is_input_error', 'run_main', 'check_amp',
    'check_data_files', 'check_head_classes', 'check_device',
    'fix_persistent_workers',
    'allow_mmengine_checkpoint_globals', 'patch_missing_drn',
    'check_cfg_options', 'explain_registry_error', 'registry_hints',
    'flush_denormal_enabled', 'flush_denormal_for_device',
    'flush_denormal_setting', 'set_flush_denormal',
    'close_distributed', 'use_gloo_on_cpu', 'scale_schedule',
    'world_size_of_launcher', 'apply_fewshot_dataset'
]
