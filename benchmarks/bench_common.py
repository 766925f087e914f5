# Copyright (c) m2df_mmaction contributors.
"""Helpers shared by the benchmark scripts (not part of the package).

Timing synchronised on CUDA, peak device memory, and episode data samples
laid out as :meth:`EpisodicDataset.build_data_sample` writes them, for
benchmarks that feed random frames instead of decoded videos.
"""
import json
import os
import statistics
import time
from typing import Callable, List, Optional

import torch
from mmaction.structures import ActionDataSample


def sync(device: torch.device) -> None:
    """Wait for the device (a no-op on CPU)."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object],
                   repeats: int,
                   warmup: int = 1,
                   device: str = 'cpu') -> float:
    """Median wall time of ``fn`` in seconds, synchronised on CUDA."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reset_peak_memory(device: str) -> None:
    if torch.device(device).type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: str) -> Optional[float]:
    """``torch.cuda.max_memory_allocated`` in GiB; None on CPU."""
    if torch.device(device).type != 'cuda':
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def episode_sample(ways: int,
                   shots: int,
                   queries: int,
                   episode_idx: int = 0,
                   num_classes: int = 64) -> ActionDataSample:
    """The data sample of one episode of classes ``0..ways-1`` (of
    ``num_classes``), as :class:`EpisodicDataset` builds it.

    Args:
        ways (int): N.
        shots (int): K.
        queries (int): Q per class.
        episode_idx (int): The episode's index (keys M2DF's test draws).
        num_classes (int): Classes of the pretend dataset (their names are
            the text of video-text losses). Defaults to 64.

    Returns:
        ActionDataSample: Labels and metainfo, no inputs.
    """
    names = [f'motion {c}' for c in range(num_classes)]
    ways_ids = torch.arange(ways)
    sample = ActionDataSample()
    sample.set_gt_label(ways_ids.repeat_interleave(queries))
    sample.set_metainfo(
        dict(
            episode_idx=episode_idx,
            class_ids=list(range(ways)),
            class_names=names[:ways],
            all_class_names=names,
            num_ways=ways,
            num_shots=shots,
            num_queries=queries,
            video_indices=list(range(ways * (shots + queries)))))
    return sample


def environment(device: str) -> dict:
    """What ran the benchmark."""
    info = dict(
        torch=torch.__version__,
        device=torch.device(device).type,
        threads=torch.get_num_threads(),
        cpu_count=os.cpu_count())
    if info['device'] == 'cuda':
        props = torch.cuda.get_device_properties(device)
        info.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            cuda=torch.version.cuda)
    return info


def write_json(path: Optional[str], data) -> None:
    if path:
        with open(path, 'w') as f:
            json.dump(data, f, indent=1)


def markdown_table(header: List[str], rows: List[List[object]]) -> str:
    """A markdown table from a header and rows of cells."""
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)
