# Copyright (c) m2df_mmaction contributors.
"""The model config that rebuilds the network a checkpoint holds."""
import copy
import os
import pickle
from collections.abc import Mapping
from typing import Union

import torch
from mmaction.utils import get_str_type

from m2df_mmaction.utils import (UserInputError, check_checkpoint_file,
                                 load_checkpoint_file)
from .build import resolve_quick_gelu
from .encoder_weights import stored_quick_gelu
from .weights import decide_quick_gelu

__all__ = ['model_cfg_for_checkpoint']

_OPEN_CLIP_TYPES = ('OpenCLIPVisual', 'OpenCLIPText', 'OpenCLIPAdapted')


def _checkpoint_state(checkpoint: Union[None, str, Mapping]) -> Mapping:
    """The state dict of a checkpoint, without ``module.`` prefixes; a file
    is read memory-mapped (only the entries looked up are read)."""
    if checkpoint is None:
        return {}
    if not isinstance(checkpoint, Mapping):
        filename = os.fspath(checkpoint)
        check_checkpoint_file(filename)
        try:  # memory-mapped; MMEngine's metadata classes are allowed
            checkpoint = torch.load(
                filename, map_location='cpu', mmap=True, weights_only=True)
        except (OSError, RuntimeError, pickle.UnpicklingError):
            # a URL, a legacy (pre-1.6) file: as MMEngine's loader reads it
            checkpoint = load_checkpoint_file(filename)
    state = checkpoint.get('state_dict', checkpoint)
    return {k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()}


def model_cfg_for_checkpoint(model_cfg: dict,
                             checkpoint: Union[None, str, Mapping]
                             ) -> dict:
    """The model config that rebuilds the network a checkpoint holds.

    The one way ``tools/test.py``, :func:`init_fewshot_recognizer` and the
    analysis tools build a model to load a checkpoint: the encoders'
    ``pretrained`` weights are dropped (the checkpoint holds every weight;
    as :func:`mmaction.apis.init_recognizer` does for the backbone), so
    nothing is read or downloaded, and each open_clip encoder is built with
    the activation stored in the checkpoint (its ``quick_gelu`` buffer).
    Checkpoints saved before that buffer existed get the activation
    decided as training decided it (:func:`resolve_quick_gelu` on the
    config's ``pretrained``, without downloading).

    Args:
        model_cfg (dict): The config's ``model`` (not changed).
        checkpoint (str | Mapping, optional): The checkpoint file, or its
            content already loaded; None: no checkpoint (the activation is
            decided from the config).

    Returns:
        dict: A copy, with ``backbone`` / ``text_encoder``
        ``pretrained=None`` and ``quick_gelu`` set for open_clip encoders
        (an adapted encoder whose checkpoint holds its trained parts only,
        ``save_trainable_only``, keeps ``pretrained``: its frozen tower is
        read from there when the checkpoint is loaded).

    Raises:
        UserInputError: The config sets ``quick_gelu`` against the
            activation the checkpoint was trained with.
    """
    model_cfg = copy.deepcopy(model_cfg)
    state = None
    for key in ('backbone', 'text_encoder'):
        sub = model_cfg.get(key)
        if not isinstance(sub, dict):
            continue
        if get_str_type(sub.get('type')) in _OPEN_CLIP_TYPES:
            if state is None:
                state = _checkpoint_state(checkpoint)
            sub['quick_gelu'] = _checkpoint_activation(
                sub, key, state, checkpoint)
        if 'pretrained' in sub and not _frozen_tower_needed(
                sub, key, state if state is not None else
                _checkpoint_state(checkpoint)):
            sub['pretrained'] = None
    return model_cfg


def _frozen_tower_needed(sub: dict, key: str, state: Mapping) -> bool:
    """Whether encoder ``key`` must read its pretrained weights: an
    adapted encoder saved with ``save_trainable_only``, whose checkpoint
    lacks the frozen tower (told by the patch embedding, ``conv1``, which
    every ViT has and no adapter recipe trains)."""
    if not sub.get('save_trainable_only') or not state:
        return False
    return f'{key}.visual.conv1.weight' not in state


def _checkpoint_activation(sub: dict, key: str, state: Mapping,
                           checkpoint) -> bool:
    """The activation of encoder ``key``: the checkpoint's, else decided."""
    stored = stored_quick_gelu(state, f'{key}.')
    wanted = sub.get('quick_gelu')
    name = os.fspath(checkpoint) if isinstance(
        checkpoint, (str, os.PathLike)) else 'the checkpoint'
    if stored is None:  # an older checkpoint, or none
        if wanted is not None:
            return bool(wanted)
        arch, pretrained = sub['arch'], sub.get('pretrained')
        try:
            return resolve_quick_gelu(arch, pretrained, None,
                                      sub.get('cache_dir'))
        except FileNotFoundError:  # the weights file is gone: rules 4-6
            try:
                return decide_quick_gelu(arch, str(pretrained))
            except ValueError as error:
                raise UserInputError(
                    f'{name} does not store the activation of model.{key} '
                    '(saved by an older version) and model.'
                    f'{key}.pretrained={pretrained!r} is not here to tell '
                    f'it: {error}') from error
    if wanted is not None and bool(wanted) != stored:
        act = {True: 'QuickGELU', False: 'GELU'}
        raise UserInputError(
            f'model.{key}.quick_gelu={wanted} in the config, but {name} was '
            f'trained with {act[stored]} ({key}.quick_gelu={stored}). Leave '
            f'model.{key}.quick_gelu unset (the checkpoint says it) or set '
            f'it to {stored}.')
    return stored
