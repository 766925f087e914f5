# Copyright (c) m2df_mmaction contributors.
"""Test setup: never touch the network, keep CPU use predictable."""
import os

# Must be set before open_clip / huggingface_hub are imported.
os.environ['HF_HUB_OFFLINE'] = '1'
os.environ.setdefault('OMP_NUM_THREADS', '2')

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)

from mmaction.utils import register_all_modules  # noqa: E402

import m2df_mmaction  # noqa: F401,E402

register_all_modules(init_default_scope=True)

# A tiny benchmark: 3 + 2 + 3 reversal pairs, 32 px, 12 frames per video.
TINY_BENCHMARK = dict(
    seed=0,
    size=32,
    num_frames=12,
    pairs_per_split=dict(train=3, val=3, test=3),
    videos_per_class=dict(train=6, val=4, test=4))


@pytest.fixture(scope='session')
def tiny_benchmark(tmp_path_factory):
    """A tiny synthetic benchmark written once per test session."""
    from m2df_mmaction.synthetic import write_benchmark
    root = tmp_path_factory.mktemp('synthetic')
    write_benchmark(str(root), **TINY_BENCHMARK)
    return str(root)
