# Copyright (c) m2df_mmaction contributors.
"""Runtime settings that depend on the machine."""
import torch
from mmengine.config import Config

__all__ = ['use_gloo_on_cpu']


def use_gloo_on_cpu(cfg: Config) -> bool:
    """Use the gloo backend for a distributed run on a machine without GPUs.

    The configs ask for NCCL, which needs GPUs; ``tools/dist_train.sh`` on a
    CPU machine would otherwise fail in ``init_process_group``.

    Args:
        cfg (Config): The config, with ``launcher`` already set.

    Returns:
        bool: True if the backend was switched.
    """
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    if cfg.get('launcher', 'none') != 'none' and \
            dist_cfg.get('backend') == 'nccl' and \
            not torch.cuda.is_available():
        dist_cfg['backend'] = 'gloo'
        return True
    return False
