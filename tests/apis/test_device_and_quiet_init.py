# Copyright (c) m2df_mmaction contributors.
"""The inference API: a device this machine lacks is refused before
anything is built; no "initialized randomly" before the checkpoint loads."""
import logging

import pytest
import torch

from m2df_mmaction.apis import FewShotInferencer, init_fewshot_recognizer
from m2df_mmaction.utils import UserInputError


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is here')
def test_cuda_without_a_gpu_is_one_clear_error(checkpoints):
    """As the README's example, device='cuda', on a CPU machine."""
    cfg, ckpt = checkpoints('m2df')
    for make in (FewShotInferencer, init_fewshot_recognizer):
        with pytest.raises(UserInputError) as error:
            make(cfg, ckpt, device='cuda')
        assert str(error.value).startswith(
            "device='cuda': no CUDA device here")
        assert "use device='cpu'" in str(error.value)


def test_no_random_init_warning_before_the_checkpoint(checkpoints, caplog):
    cfg, ckpt = checkpoints('m2df')
    with caplog.at_level(logging.WARNING):
        model = init_fewshot_recognizer(cfg, ckpt, device='cpu')
    assert not [r for r in caplog.records
                if 'initialized randomly' in r.getMessage()]
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key  # the checkpoint loaded
    with pytest.warns(UserWarning, match='keeps its random weights'):
        init_fewshot_recognizer(cfg, None, device='cpu')  # random: said
