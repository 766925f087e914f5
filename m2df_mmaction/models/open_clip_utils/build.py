# Copyright (c) m2df_mmaction contributors.
"""Build open_clip models by architecture name, offline-safe, once."""
import contextlib
import contextvars
import logging
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import open_clip
import torch.nn as nn

from .arch_check import check_weights_architecture
from .pretrained import resolve_pretrained
from .weights import (decide_quick_gelu, load_open_clip_weights,
                      read_checkpoint_meta)

__all__ = [
    'OPEN_CLIP_CONFIG_DIR', 'register_open_clip_configs',
    'build_open_clip_model', 'shared_open_clip_builds'
]

OPEN_CLIP_CONFIG_DIR = Path(__file__).parent.parent / 'open_clip_configs'
_SCHEMAS = ('hf-hub:', 'local-dir:')
_registered_dirs: List[str] = []
# Models built in the current shared_open_clip_builds() block.
_SHARED: contextvars.ContextVar[Optional[Dict[tuple, nn.Module]]] = \
    contextvars.ContextVar('shared_open_clip_builds', default=None)


def register_open_clip_configs(
        config_dir: Path = OPEN_CLIP_CONFIG_DIR) -> List[str]:
    """Register every ``*.json`` model config of a folder with open_clip.

    Idempotent: a folder is added to open_clip's search path once. JSON
    files added to the folder later are picked up by the next call of
    :func:`open_clip.add_model_config` (open_clip rescans all its paths).

    Args:
        config_dir (Path): Folder of open_clip model configs. Defaults to
            the package's ``models/open_clip_configs``.

    Returns:
        list[str]: The architecture names defined in the folder.
    """
    config_dir = Path(config_dir)
    key = str(config_dir.resolve())
    if key not in _registered_dirs:
        open_clip.add_model_config(config_dir)
        _registered_dirs.append(key)
    return sorted(p.stem for p in config_dir.glob('*.json'))


class _DropMessages(logging.Filter):

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


@contextlib.contextmanager
def _quiet_random_init(active: bool) -> Iterator[None]:
    """Hide open_clip's 'initialized randomly' warning when we load next."""
    if not active:
        yield
        return
    log_filter = _DropMessages('No pretrained weights loaded')
    root = logging.getLogger()
    root.addFilter(log_filter)
    try:
        yield
    finally:
        root.removeFilter(log_filter)


def build_open_clip_model(arch: str,
                          pretrained: Optional[str] = None,
                          quick_gelu: Optional[bool] = None,
                          cache_dir: Optional[str] = None) -> nn.Module:
    """Build an open_clip CLIP model and load its weights.

    Args:
        arch (str): open_clip architecture name (``'RN50'``,
            ``'ViT-B-16'``, ``'TinyCLIP-ViT-32'``, ...), or an
            ``'hf-hub:'`` / ``'local-dir:'`` identifier, which open_clip
            loads itself (``pretrained`` must then be ``None``).
        pretrained (str, optional): ``None`` for random init, an open_clip
            tag of ``arch`` (needs internet unless cached) or a local file.
            Defaults to None.
        quick_gelu (bool, optional): Use QuickGELU activations. ``None``
            lets the weights decide (:func:`decide_quick_gelu`: the tag, an
            OpenAI TorchScript archive, a ``quick_gelu`` entry stored in the
            file, the architecture), and fails with a clear error when a
            plain state dict cannot tell (e.g. ViT-B-16, whose published
            weights use either). Defaults to None.
        cache_dir (str, optional): Download cache folder. Defaults to None.

    Returns:
        nn.Module: An ``open_clip.CLIP`` (or ``CustomTextCLIP``) in fp32.

    Raises:
        CheckpointMismatchError: The weights are of another architecture;
            told from the file's tensor shapes before ``arch`` is built
            (:func:`check_weights_architecture`), or by the strict load.
    """
    register_open_clip_configs()
    if arch.startswith(_SCHEMAS):
        if pretrained:
            raise ValueError(f'{arch!r} names its own weights; '
                             'leave `pretrained` as None.')
        return open_clip.create_model(arch, cache_dir=cache_dir)
    if open_clip.get_model_config(arch) is None:
        raise ValueError(f'Unknown open_clip architecture {arch!r}. '
                         f'Known: {open_clip.list_models()}')
    key = (arch, pretrained, quick_gelu, cache_dir)
    shared = _SHARED.get()
    if shared is not None and key in shared:
        return shared[key]
    filename, tag_cfg = resolve_pretrained(arch, pretrained, cache_dir)
    meta = read_checkpoint_meta(filename) if filename else {}
    if filename is not None:  # weights of another arch: refused unbuilt
        check_weights_architecture(arch, filename, meta)
    if quick_gelu is None:
        quick_gelu = decide_quick_gelu(arch, filename, tag_cfg, meta)
    with _quiet_random_init(filename is not None):
        model = open_clip.create_model(
            arch,
            pretrained=None,
            force_quick_gelu=bool(quick_gelu),
            pretrained_image=False,
            pretrained_text=False,
            cache_dir=cache_dir)
    if filename is not None:
        load_open_clip_weights(model, filename, arch=arch)
    if shared is not None:
        shared[key] = model
    return model


@contextlib.contextmanager
def shared_open_clip_builds() -> Iterator[None]:
    """Build each CLIP once for the encoders created in this block.

    :class:`OpenCLIPVisual` and :class:`OpenCLIPText` each need half of a
    CLIP; inside this block (``FewShotRecognizer`` opens it around its
    encoders) a second request with the same ``arch``, ``pretrained``,
    ``quick_gelu`` and ``cache_dir`` gets the model the first one built, so
    the weights are read (and, at random init, drawn) once. Outside it every
    call builds its own model.
    """
    outer = _SHARED.get()
    token = _SHARED.set({} if outer is None else outer)
    try:
        yield
    finally:
        _SHARED.reset(token)
