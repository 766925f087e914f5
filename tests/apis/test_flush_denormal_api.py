# Copyright (c) m2df_mmaction contributors.
"""The inference API flushes subnormal floats on the CPU, as the runner's
FlushDenormalHook does, unless the config says flush_denormal=False."""
import pytest

from m2df_mmaction.apis import init_fewshot_recognizer
from m2df_mmaction.utils import flush_denormal_enabled, set_flush_denormal


@pytest.fixture(autouse=True)
def keep_mode():
    before = flush_denormal_enabled()
    yield
    set_flush_denormal(before)


@pytest.mark.parametrize('switch', [True, False])
def test_init_fewshot_recognizer_follows_the_switch(checkpoints, switch):
    cfg, ckpt = checkpoints('protonet')
    set_flush_denormal(not switch)
    init_fewshot_recognizer(
        cfg, ckpt, device='cpu', cfg_options=dict(flush_denormal=switch))
    assert flush_denormal_enabled() is switch
