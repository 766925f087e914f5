# Copyright (c) m2df_mmaction contributors.
"""Runtime settings that depend on the machine."""
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

__all__ = ['close_distributed', 'use_gloo_on_cpu']


def use_gloo_on_cpu(cfg: Config) -> bool:
    """Run a ``pytorch``-launched job on a machine without GPUs.

    The configs ask for NCCL, which needs GPUs, and MMEngine's
    ``init_dist`` calls ``torch.cuda.set_device`` whatever the backend. On a
    CPU machine this initialises the process group with gloo from the
    environment torchrun sets (MMEngine then finds it initialised and skips
    its own ``init_dist``), and wraps the model in DDP without
    ``device_ids`` (MMEngine passes the local rank as a CUDA device), so
    ``tools/dist_train.sh`` works on CPU too.

    Args:
        cfg (Config): The config, with ``launcher`` already set.

    Returns:
        bool: True if the gloo process group was started here.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False)
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    return True


def close_distributed() -> None:
    """Wait for every rank, then tear the process group down.

    Exiting with a live gloo group can abort a rank at interpreter shutdown
    ("terminate called without an active exception") after the job itself
    has finished, which torchrun reports as a failure.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
