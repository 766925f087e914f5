# Copyright (c) m2df_mmaction contributors.
import os
import pickle
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

import m2df_mmaction  # noqa: F401
from m2df_mmaction.utils import compat


def test_mmaction_models_import_and_drn_placeholder():
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    assert MODELS.get('Recognizer2D') is not None
    drn = sys.modules.get('mmaction.models.localizers.drn.drn')
    if drn is not None and not hasattr(drn, '__file__'):
        # the wheel lacks the folder: our placeholder is in place
        with pytest.raises(ImportError, match='2714'):
            drn.DRN()
    # idempotent
    assert compat.patch_missing_drn() is False


def test_mmengine_checkpoint_loads_weights_only(tmp_path):
    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_info('iter', 3)
    ckpt = dict(
        meta=dict(
            iter=3, seed=0, cfg='model = dict()',
            dataset_meta=dict(classes=['a', 'b'])),
        state_dict={'w': torch.randn(3)},
        message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=1e-3, params=[0])]))
    path = tmp_path / 'iter_3.pth'
    torch.save(ckpt, path)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], ckpt['state_dict']['w'])
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert history.mean() == pytest.approx(1.0)


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_arbitrary_pickles_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        torch.save({'x': _Evil()}, f)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


class _Sneaky:

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'sneaky.pth'
    torch.save({'x': _Sneaky()}, path)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        torch.load(path)
