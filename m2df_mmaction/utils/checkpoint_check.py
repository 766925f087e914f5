# Copyright (c) m2df_mmaction contributors.
"""Refuse to test a checkpoint that belongs to another model."""
from typing import Dict

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

__all__ = ['check_checkpoint_matches']


def check_checkpoint_matches(model: nn.Module, filename: str) -> None:
    """Compare a checkpoint's weights with the model's, key by key.

    MMEngine's ``load_checkpoint`` is non-strict: a checkpoint of another
    model loads with a warning and the test then runs on random weights.
    Testing must not do that.

    Args:
        model (nn.Module): The built model (a DDP wrapper is unwrapped).
        filename (str): The checkpoint file.

    Raises:
        KeyError: Listing missing and unexpected keys (the first ten of
            each) and shape mismatches.
    """
    if is_model_wrapper(model):
        model = model.module
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state: Dict = checkpoint.get('state_dict', checkpoint)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f'{k}: checkpoint {tuple(state[k].shape)} vs model '
        f'{tuple(expected[k].shape)}' for k in sorted(set(state) & set(
            expected)) if hasattr(state[k], 'shape')
        and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    if not (missing or unexpected or shapes):
        return
    lines = [f'{filename} does not fit the model of this config:']
    for title, keys in (('missing keys', missing),
                        ('unexpected keys', unexpected),
                        ('shape mismatches', shapes)):
        if keys:
            more = f' (+{len(keys) - 10} more)' if len(keys) > 10 else ''
            lines.append(f'  {len(keys)} {title}: '
                         f'{", ".join(keys[:10])}{more}')
    lines.append('Check that the checkpoint was trained with this config '
                 '(same head, backbone architecture and embed_dims).')
    raise KeyError('\n'.join(lines))
