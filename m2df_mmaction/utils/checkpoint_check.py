# Copyright (c) m2df_mmaction contributors.
"""Refuse a checkpoint that is not one, is cut short, or belongs to
another model, naming the file."""
import glob
import os.path as osp
import pickle
import zipfile
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

from .errors import UserInputError, UserKeyError

__all__ = [
    'check_checkpoint_file', 'load_checkpoint_file', 'check_checkpoint_model',
    'check_checkpoint_matches'
]

_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTOCOL = 0x80  # the first byte of a pickle of protocol >= 2


def check_checkpoint_file(filename: str, what: str = 'checkpoint') -> None:
    """Tell at once, without loading it, whether a file can be a checkpoint.

    torch saves a zip archive (an older format: a pickle). A zip archive
    whose end (the central directory) is missing was cut short (an
    interrupted copy or save); any other file is named as what it is (a
    text file, an image, empty, ...). Cheap: the first bytes and the end
    of the archive are read; a file that passes may still fail to load
    (:func:`load_checkpoint_file` names it then).

    Args:
        filename (str): The file.
        what (str): What the file is given as, for the message (e.g.
            ``'--resume'``). Defaults to ``'checkpoint'``.

    Raises:
        FileNotFoundError: The file does not exist.
        UserInputError: It is a folder, empty, truncated or no checkpoint.
    """
    if '://' in str(filename):  # a URL: MMEngine downloads it
        return
    if not osp.exists(filename):
        raise FileNotFoundError(f'{what} {filename} does not exist.')
    if osp.isdir(filename):
        raise UserInputError(f'{what} {filename} is a folder, not a '
                             'checkpoint file.')
    size = osp.getsize(filename)
    with open(filename, 'rb') as f:
        head = f.read(4)
    if head.startswith(_ZIP_MAGIC):
        if zipfile.is_zipfile(filename):
            return
        raise UserInputError(
            f'{what} {filename} is truncated or corrupt: a torch checkpoint '
            f'(a zip archive) of {size:,} bytes without its end (an '
            'interrupted copy, download or save). Copy or save it again (a '
            'training run: or use an earlier iter_*.pth of its work '
            'directory).')
    if head[:1] == bytes([_PICKLE_PROTOCOL]):
        return  # torch's legacy (pre-1.6) format
    from m2df_mmaction.datasets.file_kinds import sniff_non_video
    kind = sniff_non_video(filename)
    if kind is None or kind.startswith('is a ZIP'):
        kind = 'is neither a zip archive nor a pickle, the formats of ' \
            'torch.save'
    raise UserInputError(f'{what} {filename} is not a checkpoint: it {kind}. '
                         'Give a checkpoint file (.pth, written by '
                         'torch.save).')


def load_checkpoint_file(filename: str, what: str = 'checkpoint') -> dict:
    """:func:`check_checkpoint_file`, then MMEngine's ``_load_checkpoint``
    on the CPU; a file that still fails to load is named.

    Raises:
        UserInputError: The file cannot be loaded (the reason is torch's).
    """
    check_checkpoint_file(filename, what)
    try:
        return _load_checkpoint(filename, map_location='cpu')
    except (RuntimeError, EOFError, pickle.UnpicklingError,
            zipfile.BadZipFile) as error:
        reason = str(error).strip().splitlines()[0] if str(error) else \
            type(error).__name__
        raise UserInputError(
            f'{what} {filename} cannot be loaded; it is probably truncated '
            f'or corrupt (torch: {reason}). Copy or save it again, or use '
            'another checkpoint.') from error


# The config fields that decide which weights a model has.
_ARCH_FIELDS = ('type', 'backbone.type', 'backbone.arch', 'text_encoder.type',
                'text_encoder.arch', 'cls_head.type')


def _field(model: Optional[dict], key: str) -> object:
    node = model
    for part in key.split('.'):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if node is None:
        return None
    # 'mmaction.M2DFHead' and 'M2DFHead' name the same type
    return str(node).split('.')[-1] if key.endswith('type') else str(node)


def _saved_model_cfg(filename: str) -> Optional[dict]:
    """The model config MMEngine stored in a checkpoint's meta, if any.

    Reads the file memory-mapped (no tensor is loaded), so it is cheap
    even for large checkpoints; None when there is no stored config.
    """
    try:
        checkpoint = torch.load(
            filename, map_location='cpu', mmap=True, weights_only=True)
        text = checkpoint.get('meta', {}).get('cfg')
        if not isinstance(text, str):
            return None
        return Config.fromstring(text, '.py').get('model')
    except Exception:  # noqa: B902  (legacy format, no meta: not checked)
        return None


def check_checkpoint_model(model_cfg: dict, filename: str) -> None:
    """Compare the model a checkpoint was trained with to a config's, by
    the config MMEngine stores in every checkpoint it saves.

    Cheap (nothing is built, no tensor is read), so ``tools/test.py`` calls
    it before the Runner logs the environment and the config; it compares
    the model, backbone and text encoder types and architectures and the
    head type. Checkpoints without a stored config pass (the key by key
    check, :func:`check_checkpoint_matches`, follows in any case).

    Args:
        model_cfg (dict): The config's ``model``.
        filename (str): The checkpoint file.

    Raises:
        UserInputError: Naming each field that differs and the config the
            checkpoint was trained with, when its folder holds one.
    """
    saved = _saved_model_cfg(filename)
    if saved is None:
        return
    lines: List[str] = []
    for key in _ARCH_FIELDS:
        ours, theirs = _field(model_cfg, key), _field(saved, key)
        if ours != theirs:
            lines.append(f'  model.{key}: {theirs!r} in the checkpoint, '
                         f'{ours!r} in the config')
    if not lines:
        return
    folder = osp.dirname(osp.abspath(filename))
    configs = sorted(glob.glob(osp.join(folder, '*.py')))
    hint = (f'Test it with the config it was trained with ({configs[0]}, '
            'saved by the training run)' if len(configs) == 1 else
            'Test it with the config it was trained with')
    raise UserInputError(
        f'{filename} holds another model than this config:\n' +
        '\n'.join(lines) + f'\n{hint}, or give a checkpoint trained with '
        'this config.')


def check_checkpoint_matches(model: nn.Module,
                             filename: str,
                             checkpoint: Optional[dict] = None) -> None:
    """Compare a checkpoint's weights with the model's, key by key.

    MMEngine's ``load_checkpoint`` is non-strict: a checkpoint of another
    model loads with a warning and the test then runs on random weights.
    Testing must not do that.

    Args:
        model (nn.Module): The built model (a DDP wrapper is unwrapped).
        filename (str): The checkpoint file.
        checkpoint (dict, optional): Its content, when already loaded
            (e.g. by :func:`load_checkpoint_file`); None loads it.

    Raises:
        UserKeyError: A ``KeyError`` listing missing and unexpected keys
            (the first ten of each) and shape mismatches.
        UserInputError: The file is no checkpoint or cannot be loaded.
    """
    if is_model_wrapper(model):
        model = model.module
    if checkpoint is None:
        checkpoint = load_checkpoint_file(filename)
    state: Dict = checkpoint.get('state_dict', checkpoint)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    expected = model.state_dict()
    # entries a module fills itself where an older checkpoint lacks them
    # (e.g. the open_clip encoders' `quick_gelu`)
    optional = {
        f'{name}.{key}' if name else key
        for name, module in model.named_modules()
        for key in getattr(module, 'optional_state_keys', ())
    }
    missing = sorted(set(expected) - set(state) - optional)
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
    raise UserKeyError('\n'.join(lines))
