# Copyright (c) m2df_mmaction contributors.
"""Flush subnormal floats to zero in CPU arithmetic, on every torch thread.

Subnormal ("denormal") floats, ``0 < |x| < torch.finfo(dtype).tiny``, take
a slow microcode path on x86 CPUs: an operation that meets them runs tens of
times slower. In the CPU demo they come from AdamW's moment estimates of
parameters whose gradient stays exactly zero, which decay geometrically
(``exp_avg`` by ``beta1 = 0.9`` per step) into the subnormal range after
several hundred steps; every optimizer step then crawls through them, and
training slows down about threefold after episode ~600 (docs/benchmarks.md,
"CPU speed and subnormal floats").

Flushing (``torch.set_flush_denormal``: the FTZ and DAZ bits of the x86
MXCSR register, FZ on ARM) makes subnormal results and inputs exactly zero.
That register is **per thread**: torch sets it on the calling thread only,
while its intra-op work runs on a pool of OpenMP threads that keep their
own setting once they exist. :func:`set_flush_denormal` therefore also runs
the setting on every thread of torch's OpenMP pool (through libgomp's
``GOMP_parallel``, the runtime of the Linux wheels), then checks with a
multi-threaded product that every thread flushes.

On a GPU nothing here changes the CUDA kernels (their flush-to-zero mode is
fixed when they are compiled); only the host's own arithmetic would be
affected, so the project default applies it only to models on the CPU.

The switch is the config's top-level ``flush_denormal`` (default True,
``configs/_base_/default_runtime.py``): ``--cfg-options
flush_denormal=False`` in the tools, ``cfg_options=dict(flush_denormal=
False)`` in the inference API.
"""
import ctypes
import os.path as osp
import warnings
from typing import Optional, Union

import torch

__all__ = [
    'FLUSH_DENORMAL_KEY', 'flush_denormal_enabled', 'set_flush_denormal',
    'flush_denormal_setting', 'flush_denormal_for_device'
]

FLUSH_DENORMAL_KEY = 'flush_denormal'
# 2**-100 * 2**-40 = 2**-140: a subnormal float32 (tiny = 2**-126)
_A, _B = 2.0**-100, 2.0**-40


def flush_denormal_enabled(all_threads: bool = True) -> bool:
    """Whether CPU arithmetic flushes subnormal float32 results to zero.

    Args:
        all_threads (bool): Check every intra-op thread with a product split
            across ``torch.get_num_threads()`` threads (about 0.1 ms per
            thread); False checks the calling thread only.

    Returns:
        bool: True if every product checked came out exactly zero.
    """
    numel = 1
    if all_threads:  # ATen splits a mul into chunks of 32,768 elements
        numel = max(1, torch.get_num_threads()) * 65536
    out = torch.full((numel, ), _A, dtype=torch.float32) * _B
    return not bool(out.any())


def _torch_libgomp() -> Optional[str]:
    """The path of the libgomp this process has loaded for torch (Linux;
    None elsewhere or when torch uses another OpenMP runtime)."""
    try:
        with open('/proc/self/maps') as f:
            paths = {line.split()[-1] for line in f if 'libgomp' in line}
    except OSError:
        return None
    paths = sorted(p for p in paths if osp.isfile(p))
    torch_dir = osp.dirname(torch.__file__)
    for path in paths:  # the copy in torch/lib is the one torch runs on
        if path.startswith(torch_dir):
            return path
    return paths[0] if paths else None


def _on_every_omp_thread(enable: bool) -> bool:
    """Run ``torch.set_flush_denormal(enable)`` on each thread of torch's
    OpenMP pool (the calling thread is thread 0 of the team)."""
    path = _torch_libgomp()
    if path is None:
        return False
    try:
        lib = ctypes.CDLL(path)  # the already loaded library
        parallel = lib.GOMP_parallel
    except (OSError, AttributeError):
        return False
    body_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

    def body(_):
        torch.set_flush_denormal(enable)

    callback = body_type(body)  # referenced until the call returns
    parallel.argtypes = [body_type, ctypes.c_void_p, ctypes.c_uint,
                         ctypes.c_uint]
    parallel.restype = None
    parallel(callback, None, max(1, torch.get_num_threads()), 0)
    return True


def set_flush_denormal(enable: bool) -> bool:
    """Flush (or stop flushing) subnormal floats on every torch CPU thread.

    Sets the mode on the calling thread and on each thread of torch's
    OpenMP intra-op pool, then checks it with :func:`flush_denormal_enabled`.
    The setting is process-wide in effect and stays until changed; threads
    and processes started later (dataloader workers) inherit it from the
    thread that starts them.

    Args:
        enable (bool): True to flush subnormal floats to zero.

    Returns:
        bool: The previous state (:func:`flush_denormal_enabled` before the
        change), to hand back later.
    """
    previous = flush_denormal_enabled()
    if not torch.set_flush_denormal(enable):
        if enable:
            warnings.warn('flush_denormal: this CPU cannot flush subnormal '
                          'floats (no DAZ/FZ support); continuing without.')
        return previous
    if flush_denormal_enabled() != enable:
        _on_every_omp_thread(enable)
        if flush_denormal_enabled() != enable:
            warnings.warn(
                f'flush_denormal={enable}: some of torch\'s '
                f'{torch.get_num_threads()} CPU threads did not take the '
                'setting (torch is not using the libgomp OpenMP pool); call '
                f'torch.set_flush_denormal({enable}) before the first torch '
                'operation of the process.')
    return previous


def flush_denormal_setting(cfg) -> bool:
    """The config's ``flush_denormal`` switch: True when absent.

    Raises:
        ValueError: It is set to something other than True or False.
    """
    value = cfg.get(FLUSH_DENORMAL_KEY, True) if cfg is not None else True
    if not isinstance(value, bool):
        raise ValueError(
            f'{FLUSH_DENORMAL_KEY}={value!r}: must be True or False (e.g. '
            f'--cfg-options {FLUSH_DENORMAL_KEY}=False).')
    return value


def flush_denormal_for_device(
        enable: Union[bool, object],
        device: Union[str, torch.device, None]) -> Optional[bool]:
    """The project default: flush subnormal floats when running on the CPU.

    Used by :class:`FlushDenormalHook` (training, validation, testing) and
    by the inference API and the analysis tools, so they all behave alike.

    Args:
        enable (bool | Config): The switch, or a config whose
            ``flush_denormal`` key holds it (True when absent).
        device (str | torch.device | None): Where the model runs; nothing
            is changed unless it is the CPU (None: the CPU).

    Returns:
        bool | None: The previous state if the mode was set here, to hand
        to :func:`set_flush_denormal` when done; None if nothing was done
        (not the CPU, or already in the wanted state).
    """
    if not isinstance(enable, bool):
        enable = flush_denormal_setting(enable)
    if device is not None and torch.device(device).type != 'cpu':
        return None
    if flush_denormal_enabled() == enable:
        return None
    return set_flush_denormal(enable)
