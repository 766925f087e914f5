# Copyright (c) m2df_mmaction contributors.
"""Save and restore the random state with each checkpoint."""
import random

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

__all__ = ['RandomStateHook']


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make ``--resume`` continue the random streams of the stopped run.

    MMEngine restores weights, optimizer, schedulers and the iteration, but
    not the random generators of the main process, which drive dropout and
    the prompt selector's draws in training. This hook stores the torch,
    numpy and Python generator states in the checkpoint and restores them on
    resume, so a resumed run trains exactly as the uninterrupted one (data
    randomness is already a function of the episode index, see
    :class:`EpisodicDataset`). The states are tensors and plain values, so
    the checkpoint still loads with ``weights_only``.

    It also keeps validation from drawing on the training generators (a
    dataloader iterator draws its workers' seed from torch's generator), so
    a run trains the same whatever its validation interval, and a resumed run
    the same as an uninterrupted one that validated in between.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add the generator states to the checkpoint."""
        checkpoint['random_state'] = _get_state()

    def before_val(self, runner) -> None:
        """Put the training generators aside during validation."""
        self._during_val = _get_state()

    def after_val(self, runner) -> None:
        """Give the training generators back after validation."""
        state, self._during_val = self._during_val, None
        if state is not None:
            _set_state(state)

    def __init__(self) -> None:
        self._pending = None
        self._during_val = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the checkpoint's generator states until training starts.

        They are applied in :meth:`before_train`, after everything
        ``Runner.resume`` does (it may reseed when the seeds differ).
        """
        self._pending = checkpoint.get('random_state')

    def before_train(self, runner) -> None:
        """Restore the generator states of a resumed checkpoint."""
        state, self._pending = self._pending, None
        if state is not None:
            _set_state(state)


def _get_state() -> dict:
    """Torch, numpy and Python generator states as tensors and values."""
    np_state = np.random.get_state()
    version, internal, gauss = random.getstate()
    return dict(
        torch=torch.get_rng_state(),
        numpy=dict(
            key=torch.from_numpy(np_state[1].astype(np.int64)),
            pos=int(np_state[2]),
            has_gauss=int(np_state[3]),
            cached_gaussian=float(np_state[4])),
        python=[version, list(internal), gauss])


def _set_state(state: dict) -> None:
    torch.set_rng_state(state['torch'])
    numpy = state['numpy']
    np.random.set_state(
        ('MT19937', numpy['key'].numpy().astype(np.uint32), numpy['pos'],
         numpy['has_gauss'], numpy['cached_gaussian']))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
