# Copyright (c) m2df_mmaction contributors.
"""Flushing subnormal floats on every torch CPU thread (utils/denormal.py).

``torch.set_flush_denormal`` is process-global in effect: every test puts
back the mode it found.
"""
import pytest
import torch
from mmengine.config import Config

from m2df_mmaction.utils import (flush_denormal_enabled,
                                 flush_denormal_for_device,
                                 flush_denormal_setting, set_flush_denormal)

SUBNORMAL = 2.0**-140  # float32 tiny is 2**-126


@pytest.fixture(autouse=True)
def keep_mode():
    before = flush_denormal_enabled()
    yield
    set_flush_denormal(before)


def products(threads: int) -> torch.Tensor:
    """2**-100 * 2**-40 on a tensor ATen splits across ``threads``."""
    return torch.full((threads * 65536, ), 2.0**-100) * 2.0**-40


def test_flushes_on_every_thread_of_an_existing_pool():
    threads = torch.get_num_threads()
    products(threads).sum()  # the OpenMP pool exists before the switch
    set_flush_denormal(False)
    kept = products(threads)
    assert bool((kept == SUBNORMAL).all())
    assert set_flush_denormal(True) is False  # returns the previous mode
    assert flush_denormal_enabled() and flush_denormal_enabled(False)
    assert not bool(products(threads).any())  # every chunk, every thread
    assert set_flush_denormal(False) is True
    assert bool((products(threads) == SUBNORMAL).all())


def test_for_device_only_on_the_cpu_and_by_the_switch():
    set_flush_denormal(False)
    # a GPU model: nothing changes on the host
    assert flush_denormal_for_device(True, 'cuda:0') is None
    assert not flush_denormal_enabled()
    # the config's switch
    assert flush_denormal_for_device(Config(dict(flush_denormal=False)),
                                     'cpu') is None
    assert not flush_denormal_enabled()
    assert flush_denormal_for_device(Config(dict()), 'cpu') is False
    assert flush_denormal_enabled()
    # already in the wanted mode: nothing to hand back
    assert flush_denormal_for_device(True, torch.device('cpu')) is None


def test_switch_must_be_a_bool():
    assert flush_denormal_setting(Config(dict())) is True
    assert flush_denormal_setting(None) is True
    with pytest.raises(ValueError, match=r"flush_denormal='no': must be "
                       r'True or False .*--cfg-options flush_denormal=False'):
        flush_denormal_setting(Config(dict(flush_denormal='no')))
