# Copyright (c) m2df_mmaction contributors.
import pytest
import torch


@pytest.fixture(scope='module')
def one_thread():
    """Tiny models run fastest on one thread (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
