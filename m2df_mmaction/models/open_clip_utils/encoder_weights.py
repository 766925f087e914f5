# Copyright (c) m2df_mmaction contributors.
"""What :class:`OpenCLIPVisual` and :class:`OpenCLIPText` share about
their weights: loaded in ``init_weights()``, activation kept in the state
dict.

- The pretrained weights load in ``init_weights()`` (MMEngine calls it when
  training starts), not in ``__init__``: a model rebuilt to load a
  checkpoint never reads (or downloads) them. Run the model before
  ``init_weights()`` (or a checkpoint) and a warning says so once.
- The activation the CLIP was built with (QuickGELU or GELU, decided once
  by :func:`resolve_quick_gelu`) is a persistent buffer, ``quick_gelu``, of
  the encoder: every checkpoint holds it, so a rebuild uses the activation
  the weights were trained with
  (:func:`~m2df_mmaction.apis.model_cfg_for_checkpoint` reads it before
  building). Loading a state dict whose ``quick_gelu`` differs from the
  module's is refused with one message; a state dict saved before the
  buffer existed loads as before (the module's own value is kept).
"""
import warnings
from collections.abc import Mapping
from typing import Optional

import torch
import torch.nn as nn

from .build import OpenCLIPBuild
from .weights import CheckpointMismatchError

__all__ = [
    'QUICK_GELU_KEY', 'attach_open_clip_build', 'load_pretrained_clip',
    'stored_quick_gelu'
]

#: Name of the encoders' activation buffer (``backbone.quick_gelu``, ...).
QUICK_GELU_KEY = 'quick_gelu'


def _activation(quick_gelu: bool) -> str:
    return 'QuickGELU' if quick_gelu else 'GELU'


def attach_open_clip_build(module: nn.Module, build: OpenCLIPBuild) -> None:
    """Give an encoder its pretrained weights and its activation buffer.

    Sets ``module._clip_weights`` (loaded by :func:`load_pretrained_clip`),
    registers the persistent 0-d bool buffer ``quick_gelu`` and the load
    hook that checks it, and, when there are weights to load, a warning on
    the first forward run before they (or a state dict) were loaded.

    Args:
        module (nn.Module): The encoder, holding parts of ``build.clip``.
        build (OpenCLIPBuild): From :func:`build_open_clip_unloaded`.
    """
    module._clip_weights = build.weights
    module.register_buffer(QUICK_GELU_KEY, torch.tensor(build.quick_gelu))
    module._register_load_state_dict_pre_hook(
        _check_stored_activation, with_module=True)
    module._unloaded_warning = None
    if build.weights is not None:
        module._unloaded_warning = module.register_forward_pre_hook(
            _warn_unloaded)


def _disarm(module: nn.Module) -> None:
    handle = getattr(module, '_unloaded_warning', None)
    if handle is not None:
        handle.remove()
        module._unloaded_warning = None


def _warn_unloaded(module: nn.Module, args) -> None:
    weights = module._clip_weights
    if weights is not None and not weights.loaded:
        warnings.warn(
            f'{type(module).__name__}({weights.arch!r}) runs with random '
            f'weights: pretrained={weights.pretrained!r} loads in '
            'init_weights(), which has not been called (MMEngine calls it '
            'when training starts; standalone, call model.init_weights() '
            'after building, or load a checkpoint).')
    _disarm(module)


def load_pretrained_clip(module: nn.Module) -> Optional[str]:
    """Load an encoder's pretrained weights (``init_weights()``).

    Shared builds load once: the weights go into the whole CLIP, hence
    into every encoder holding parts of it.

    Args:
        module (nn.Module): An encoder set up by
            :func:`attach_open_clip_build`.

    Returns:
        str | None: The weights file; None without ``pretrained``.
    """
    weights = module._clip_weights
    if weights is None:
        return None
    filename = weights.load()
    _disarm(module)
    return filename


def stored_quick_gelu(state_dict: Mapping, prefix: str) -> Optional[bool]:
    """The activation stored for the encoder at ``prefix`` (e.g.
    ``'backbone.'``); None in a state dict saved before it was stored."""
    value = state_dict.get(prefix + QUICK_GELU_KEY)
    return None if value is None else bool(value)


def _check_stored_activation(module: nn.Module, state_dict: dict,
                             prefix: str, *args) -> None:
    """Load pre-hook: refuse another activation, keep ours where the state
    dict has none; a state dict of this module disarms the warning."""
    key = prefix + QUICK_GELU_KEY
    own = bool(getattr(module, QUICK_GELU_KEY))
    if any(k.startswith(prefix) and k != key for k in state_dict):
        _disarm(module)
    if key not in state_dict:  # saved before the activation was stored
        state_dict[key] = getattr(module, QUICK_GELU_KEY).detach().clone()
        return
    stored = bool(state_dict[key])
    if stored == own:
        return
    name = prefix.rstrip('.') or type(module).__name__
    raise CheckpointMismatchError(
        f'The weights loaded into {name} were trained with '
        f'{_activation(stored)} activations ({key}={stored}), but this '
        f'{type(module).__name__} was built with {_activation(own)}: the '
        'network would differ silently. Build the model from the '
        'checkpoint with tools/test.py or init_fewshot_recognizer (they '
        f'read the activation from it), or set model.{name}.quick_gelu='
        f'{stored} in the config.')
