# Copyright (c) m2df_mmaction contributors.
"""Local CLIP weights: read any common file format, load strictly.

Loading is :func:`open_clip.load_checkpoint` wherever it can read the file
(plain state dicts, ``{'state_dict': ...}`` checkpoints, ``module.``
prefixes, ``.safetensors``): its conversions of third-party layouts and
position-embedding resizing then apply unchanged. It cannot read OpenAI's
TorchScript ``.pt`` archives with ``weights_only=True`` (``torch.load``
refuses them), nor training checkpoints that wrap the weights under
``model`` / ``module`` or prefix ``_orig_mod.`` (``torch.compile``); those
we read here and load directly (they hold open_clip layouts already). In
both cases a checkpoint of another architecture is refused with the file
and the first missing, unexpected and mis-shaped keys named, and the
weights decide the activation (:func:`decide_quick_gelu`).
"""
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from typing import Dict, List, Optional, Tuple

import open_clip
import torch
import torch.nn as nn

__all__ = [
    'CheckpointMismatchError', 'is_torchscript_archive',
    'read_open_clip_checkpoint', 'read_open_clip_state_dict',
    'read_checkpoint_meta', 'decide_quick_gelu', 'load_open_clip_weights'
]

# Entries of OpenAI's TorchScript archives that are not weights.
_OPENAI_JIT_EXTRA_KEYS = ('input_resolution', 'context_length', 'vocab_size')
# Keys under which training checkpoints keep the model's state dict.
_WRAPPER_KEYS = ('state_dict', 'model', 'module')
# Prefixes added by DDP and by ``torch.compile``.
_WRAPPER_PREFIXES = ('module.', '_orig_mod.')
_MAX_LISTED_KEYS = 5


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not fit the requested architecture."""


def is_torchscript_archive(filename: str) -> bool:
    """Whether ``filename`` is a TorchScript archive (OpenAI's ``.pt``)."""
    if not zipfile.is_zipfile(filename):
        return False
    with zipfile.ZipFile(filename) as archive:
        return any(
            name.split('/', 1)[-1] == 'constants.pkl'
            for name in archive.namelist())


def _unwrap_state_dict(checkpoint: Mapping) -> Mapping:
    """Find the state dict inside a training checkpoint."""
    while isinstance(checkpoint, Mapping):
        inner = next(
            (checkpoint[k]
             for k in _WRAPPER_KEYS if isinstance(checkpoint.get(k), Mapping)),
            None)
        if inner is None:
            break
        checkpoint = inner
    return checkpoint


def _strip_prefixes(state_dict: Dict[str, torch.Tensor]) -> Dict:
    for prefix in _WRAPPER_PREFIXES:
        if state_dict and all(k.startswith(prefix) for k in state_dict):
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
    return state_dict


def decide_quick_gelu(arch: str,
                      filename: Optional[str],
                      tag_cfg: Optional[dict] = None,
                      meta: Optional[dict] = None) -> bool:
    """Whether weights need QuickGELU, told by the weights themselves.

    OpenAI's CLIP was trained with QuickGELU and most later weights of the
    same architectures with plain GELU, so the activation belongs to the
    weights, not to the architecture name. In order:

    1. an open_clip tag says so (its ``quick_gelu``);
    2. an OpenAI TorchScript archive: QuickGELU;
    3. the file stores ``quick_gelu`` next to its weights;
    4. the architecture fixes it (``'RN50-quickgelu'``, ...);
    5. every published weight of the architecture uses the same activation
       (e.g. all RN50 and RN101 tags: QuickGELU; tiny or custom
       architectures without tags: GELU);
    6. otherwise the file cannot tell (a plain state dict of ViT-B-16 may
       be OpenAI's or LAION's): an error asks for ``quick_gelu``.

    Args:
        arch (str): open_clip architecture name.
        filename (str, optional): Local weights file, None for random init.
        tag_cfg (dict, optional): The open_clip tag's config, if a tag was
            given.
        meta (dict, optional): Entries stored next to the weights
            (:func:`read_open_clip_checkpoint`).

    Returns:
        bool: True for QuickGELU.

    Raises:
        ValueError: Case 6, naming the file, the architecture and which of
            its published weights use which activation.
    """
    if tag_cfg:
        return bool(tag_cfg.get('quick_gelu', False))
    arch_setting = (open_clip.get_model_config(arch) or {}).get('quick_gelu')
    if filename is None:
        return bool(arch_setting)
    if is_torchscript_archive(filename):
        return True
    if meta and isinstance(meta.get('quick_gelu'), bool):
        return meta['quick_gelu']
    if arch_setting is not None:
        return bool(arch_setting)
    tags = {
        tag: bool(
            open_clip.get_pretrained_cfg(arch, tag).get('quick_gelu', False))
        for tag in open_clip.list_pretrained_tags_by_model(arch)
    }
    if len(set(tags.values())) <= 1:
        return any(tags.values())
    quick = sorted(t for t, q in tags.items() if q)
    plain = sorted(t for t, q in tags.items() if not q)
    raise ValueError(
        f'Cannot tell the activation of the weights in {filename}: a plain '
        f'state dict of {arch!r}, whose published weights use QuickGELU '
        f'({", ".join(quick[:4])}) or GELU ({", ".join(plain[:4])}). Set '
        '`quick_gelu=True` for OpenAI CLIP weights (and DFN/MetaCLIP), '
        '`quick_gelu=False` for LAION/DataComp ones, or use the '
        f"'{arch}-quickgelu' architecture.")


def read_open_clip_checkpoint(
        filename: str) -> Tuple[Dict[str, torch.Tensor], Dict]:
    """Read a CLIP state dict, and what is stored next to it, from a file.

    Args:
        filename (str): A plain state dict or a training checkpoint saved
            with :func:`torch.save` (read with ``weights_only=True``), a
            ``.safetensors`` file or an OpenAI TorchScript archive.

    Returns:
        tuple[dict, dict]: The state dict on the CPU, with wrapper keys and
        ``module.`` / ``_orig_mod.`` prefixes removed; and the top-level
        scalar entries of a dict checkpoint (e.g. ``{'arch': ...,
        'quick_gelu': False}`` as ``tools/pretrain_tiny_clip.py`` writes
        them; empty for other files).
    """
    filename = str(filename)
    meta = {}
    if filename.endswith('.safetensors'):
        from safetensors.torch import load_file
        state_dict = load_file(filename, device='cpu')
    elif is_torchscript_archive(filename):
        # torch.load(weights_only=True) refuses TorchScript archives, and
        # open_clip.load_openai_model rebuilds the model from guessed
        # hyper-parameters (heads = width // 64), which is wrong for other
        # architectures. We only take the archive's tensors.
        with warnings.catch_warnings():
            # torch >= 2.9 deprecates TorchScript, but OpenAI ships it.
            warnings.simplefilter('ignore', FutureWarning)
            archive = torch.jit.load(filename, map_location='cpu')
        state_dict = dict(archive.state_dict())
        for key in _OPENAI_JIT_EXTRA_KEYS:
            state_dict.pop(key, None)
    else:
        try:
            checkpoint = torch.load(
                filename, map_location='cpu', weights_only=True)
        except pickle.UnpicklingError as e:
            raise RuntimeError(
                f'{filename} holds Python objects that torch.load refuses '
                'to unpickle with weights_only=True. Re-save only its '
                'state dict (torch.save(ckpt["state_dict"], path)) or '
                'convert it to .safetensors.') from e
        if isinstance(checkpoint, Mapping):
            meta = {
                k: v
                for k, v in checkpoint.items()
                if isinstance(v, (str, bool, int, float))
            }
        state_dict = _unwrap_state_dict(checkpoint)
    if not isinstance(state_dict, Mapping):
        raise TypeError(f'{filename} does not hold a state dict '
                        f'(found {type(state_dict).__name__}).')
    state_dict = {
        k: v
        for k, v in state_dict.items() if isinstance(v, torch.Tensor)
    }
    return _strip_prefixes(state_dict), meta


def read_open_clip_state_dict(filename: str) -> Dict[str, torch.Tensor]:
    """The state dict of :func:`read_open_clip_checkpoint`."""
    return read_open_clip_checkpoint(filename)[0]


def _first(keys: List[str]) -> str:
    shown = ', '.join(keys[:_MAX_LISTED_KEYS])
    more = len(keys) - _MAX_LISTED_KEYS
    return shown + (f', ... (+{more} more)' if more > 0 else '')


def _open_clip_reads(checkpoint) -> bool:
    """Whether :func:`open_clip.load_checkpoint` reads this file itself."""
    if not isinstance(checkpoint, Mapping):
        return False
    if isinstance(checkpoint.get('state_dict'), Mapping):
        checkpoint = checkpoint['state_dict']
    elif any(isinstance(checkpoint.get(k), Mapping)
             for k in _WRAPPER_KEYS):
        return False  # a 'model' / 'module' wrapper
    return all(isinstance(v, torch.Tensor) for v in checkpoint.values()) \
        and not any(k.startswith('_orig_mod.') for k in checkpoint)


def _peek(filename: str):
    """The file's structure without reading its tensors (memory-mapped)."""
    if filename.endswith('.safetensors') or is_torchscript_archive(filename):
        return None
    try:
        return torch.load(
            filename, map_location='cpu', weights_only=True, mmap=True)
    except (RuntimeError, pickle.UnpicklingError):  # e.g. legacy format
        return None


def _mismatch(model: nn.Module, state_dict: Mapping, filename: str,
              arch: str, detail: str = '') -> CheckpointMismatchError:
    """The error naming the first missing, unexpected, mis-shaped keys."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f'{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}'
        for k, v in state_dict.items()
        if k in expected and v.shape != expected[k].shape
    ]
    parts = []
    if missing:
        parts.append(f'{len(missing)} missing keys: {_first(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys: '
                     f'{_first(unexpected)}')
    if mismatched:
        parts.append(f'{len(mismatched)} shape mismatches (checkpoint vs '
                     f'model): {_first(mismatched)}')
    if detail and not parts:
        parts.append(detail)
    from .arch_check import (_differences, describe_architecture,
                             describe_weights, summarize)
    found = describe_weights({k: tuple(v.shape)
                              for k, v in state_dict.items()})
    expected = describe_architecture(arch) \
        if open_clip.get_model_config(arch) else {}
    holds = ''
    if _differences(expected, found):  # e.g. OpenAI TorchScript archives
        holds = (f' The file holds {summarize(found)}; {arch!r} is '
                 f'{summarize(expected)}.')
    return CheckpointMismatchError(
        f'Checkpoint {filename} does not fit open_clip architecture '
        f'{arch!r}: ' + '; '.join(parts) +
        '. Was it saved from another architecture?' + holds +
        ' Set arch to the architecture of the weights, or give weights of '
        f'{arch!r}.')


def load_open_clip_weights(model: nn.Module,
                           filename: str,
                           arch: str = 'the model') -> None:
    """Load a weights file into an open_clip model, strictly.

    Args:
        model (nn.Module): A model built by :func:`open_clip.create_model`.
        filename (str): Any format of :func:`read_open_clip_checkpoint`.
        arch (str): Architecture name, only used in error messages.

    Raises:
        CheckpointMismatchError: Missing, unexpected or differently shaped
            entries; the message lists the first few of each and the file.
    """
    filename = str(filename)
    peeked = _peek(filename)
    if filename.endswith('.safetensors') or _open_clip_reads(peeked):
        raw = _strip_prefixes(dict(_unwrap_state_dict(peeked))) \
            if peeked is not None else None
        try:
            incompatible = open_clip.load_checkpoint(
                model, filename, strict=False, weights_only=True)
        except (RuntimeError, AssertionError) as error:
            # shape mismatches; open_clip asserts on position embeddings
            if raw is None:
                raw = read_open_clip_state_dict(filename)
            raise _mismatch(model, raw, filename, arch, str(error)) from error
        if incompatible.missing_keys or incompatible.unexpected_keys:
            if raw is None:
                raw = read_open_clip_state_dict(filename)
            raise _mismatch(model, raw, filename, arch)
        return
    state_dict = read_open_clip_state_dict(filename)
    # Non-persistent buffers (e.g. the text attention mask) are built by the
    # model; TorchScript archives list them among their tensors.
    persistent = model.state_dict().keys()
    for name, _ in model.named_buffers():
        if name not in persistent:
            state_dict.pop(name, None)
    if set(state_dict) != set(persistent) or any(
            state_dict[k].shape != v.shape
            for k, v in model.state_dict().items()):
        raise _mismatch(model, state_dict, filename, arch)
    model.load_state_dict(state_dict, strict=True)


def read_checkpoint_meta(filename: str) -> Dict:
    """The scalar entries stored next to the weights of a file.

    Read memory-mapped, so nothing but the entries is loaded.

    Args:
        filename (str): A checkpoint file.

    Returns:
        dict: E.g. ``{'arch': ..., 'quick_gelu': False}``; empty for files
        without such entries.
    """
    peeked = _peek(str(filename))
    if not isinstance(peeked, Mapping):
        return {}
    return {
        k: v
        for k, v in peeked.items() if isinstance(v, (str, bool, int, float))
    }
