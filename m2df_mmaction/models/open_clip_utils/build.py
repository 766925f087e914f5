# Copyright (c) m2df_mmaction contributors.
"""Build open_clip models by architecture name, offline-safe, once.

The encoders build their CLIP in ``__init__``
(:func:`build_open_clip_unloaded`: the architecture and the activation its
weights need, nothing downloaded)
and load the weights in ``init_weights()``, which MMEngine calls when
training starts (:class:`PretrainedCLIPWeights`); a model rebuilt from a
checkpoint never reads them.
"""
import contextlib
import contextvars
import logging
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

import open_clip
import torch.nn as nn
from open_clip.transformer import QuickGELU

from m2df_mmaction.utils import check_checkpoint_file
from .arch_check import check_weights_architecture
from .pretrained import locate_pretrained, resolve_pretrained
from .weights import (decide_quick_gelu, load_open_clip_weights,
                      read_checkpoint_meta)

__all__ = [
    'OPEN_CLIP_CONFIG_DIR', 'register_open_clip_configs',
    'resolve_quick_gelu', 'PretrainedCLIPWeights', 'OpenCLIPBuild',
    'build_open_clip_unloaded', 'build_open_clip_model',
    'shared_open_clip_builds'
]

OPEN_CLIP_CONFIG_DIR = Path(__file__).parent.parent / 'open_clip_configs'
_SCHEMAS = ('hf-hub:', 'local-dir:')
_registered_dirs: List[str] = []
# Models built in the current shared_open_clip_builds() block.
_SHARED: contextvars.ContextVar[Optional[Dict[tuple, 'OpenCLIPBuild']]] = \
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
def _quiet_random_init() -> Iterator[None]:
    """Hide open_clip's 'initialized randomly' warning: the weights come
    from ``init_weights()`` or a checkpoint (the encoders say which)."""
    log_filter = _DropMessages('No pretrained weights loaded')
    root = logging.getLogger()
    root.addFilter(log_filter)
    try:
        yield
    finally:
        root.removeFilter(log_filter)


def resolve_quick_gelu(arch: str,
                       pretrained: Optional[str] = None,
                       quick_gelu: Optional[bool] = None,
                       cache_dir: Optional[str] = None) -> bool:
    """The activation a CLIP of ``arch`` is built with, for ``pretrained``.

    The one place the QuickGELU decision is made (encoders, and the
    rebuild of an older checkpoint that does not store it). Nothing is
    downloaded: a tag is decided by its open_clip config, a local file by
    its header (:func:`decide_quick_gelu`); a local (or cached) file of
    another architecture is refused here, before anything is built.

    Args:
        arch (str): open_clip architecture name.
        pretrained (str, optional): ``None``, an open_clip tag or a local
            file. Defaults to None.
        quick_gelu (bool, optional): An explicit choice, returned as is
            (after the file checks). Defaults to None.
        cache_dir (str, optional): Download cache folder. Defaults to None.

    Returns:
        bool: True for QuickGELU.
    """
    return _plan(arch, pretrained, quick_gelu, cache_dir)[1]


def _plan(arch: str, pretrained: Optional[str], quick_gelu: Optional[bool],
          cache_dir: Optional[str]) -> Tuple[Optional[str], bool]:
    """The local weights file (if any, not downloaded) and the activation."""
    if open_clip.get_model_config(arch) is None:
        raise ValueError(f'Unknown open_clip architecture {arch!r}. '
                         f'Known: {open_clip.list_models()}')
    filename, tag_cfg = locate_pretrained(arch, pretrained, cache_dir)
    if filename is not None and not filename.endswith('.safetensors'):
        # a truncated or non-checkpoint file: named now, not when it loads
        check_checkpoint_file(filename, 'pretrained')
    meta = read_checkpoint_meta(filename) if filename else {}
    if filename is not None:  # weights of another arch: refused unbuilt
        check_weights_architecture(arch, filename, meta)
    if quick_gelu is None:
        quick_gelu = decide_quick_gelu(arch, filename, tag_cfg, meta)
    return filename, bool(quick_gelu)


class PretrainedCLIPWeights:
    """The pretrained weights of a built CLIP, loaded by :meth:`load`.

    The encoders keep parts of the CLIP (its visual tower, the modules of
    its text tower) and this object; ``init_weights()`` of either loads the
    weights into the whole CLIP, hence into both encoders, once.

    Args:
        clip (nn.Module): The CLIP built at random.
        arch (str): Its open_clip architecture.
        pretrained (str): An open_clip tag or a local file.
        cache_dir (str, optional): Download cache folder.
        checked (str, optional): The local file already checked for its
            architecture when the CLIP was built.
    """

    def __init__(self, clip: nn.Module, arch: str, pretrained: str,
                 cache_dir: Optional[str], checked: Optional[str]) -> None:
        self._clip = clip
        self.arch = arch
        self.pretrained = pretrained
        self.cache_dir = cache_dir
        self._checked = checked
        self.filename: Optional[str] = None

    @property
    def loaded(self) -> bool:
        """Whether :meth:`load` has run."""
        return self.filename is not None

    def load(self) -> str:
        """Load the weights (once): download a tag that is not cached,
        refuse another architecture, load strictly
        (:func:`load_open_clip_weights`).

        Returns:
            str: The weights file.
        """
        if self.filename is None:
            filename, _ = resolve_pretrained(self.arch, self.pretrained,
                                             self.cache_dir)
            if filename != self._checked:  # a tag fetched just now
                check_weights_architecture(self.arch, filename,
                                           read_checkpoint_meta(filename))
            load_open_clip_weights(self._clip, filename, arch=self.arch)
            self.filename = filename
            self._clip = None  # the encoders keep the parts they use
        return self.filename


class OpenCLIPBuild(NamedTuple):
    """A CLIP built by :func:`build_open_clip_unloaded`."""
    #: open_clip's CLIP, randomly initialised.
    clip: nn.Module
    #: The activation it was built with (:func:`resolve_quick_gelu`).
    quick_gelu: bool
    #: Its pretrained weights, None without ``pretrained``.
    weights: Optional[PretrainedCLIPWeights]


def build_open_clip_unloaded(arch: str,
                             pretrained: Optional[str] = None,
                             quick_gelu: Optional[bool] = None,
                             cache_dir: Optional[str] = None
                             ) -> OpenCLIPBuild:
    """Build an open_clip CLIP for ``pretrained`` without loading it.

    What the encoders build in ``__init__``: the architecture, with the
    activation the weights need (:func:`resolve_quick_gelu`; nothing is
    downloaded, a local file of another architecture is refused), and the
    weights to load in ``init_weights()``. open_clip's "initialized
    randomly" warning is not shown: the weights come from ``init_weights()``
    or a checkpoint. Inside :func:`shared_open_clip_builds` the same
    arguments give the same build.

    Args:
        arch (str): open_clip architecture name (see
            :func:`build_open_clip_model`).
        pretrained (str, optional): ``None``, an open_clip tag or a local
            file. Defaults to None.
        quick_gelu (bool, optional): None: decided from the weights.
            Defaults to None.
        cache_dir (str, optional): Download cache folder. Defaults to None.

    Returns:
        OpenCLIPBuild: The CLIP, its activation and its weights.
    """
    register_open_clip_configs()
    if arch.startswith(_SCHEMAS):
        if pretrained:
            raise ValueError(f'{arch!r} names its own weights; '
                             'leave `pretrained` as None.')
        model = open_clip.create_model(arch, cache_dir=cache_dir)
        quick = any(isinstance(m, QuickGELU) for m in model.modules())
        return OpenCLIPBuild(model, quick, None)
    key = (arch, pretrained, quick_gelu, cache_dir)
    shared = _SHARED.get()
    if shared is not None and key in shared:
        return shared[key]
    filename, quick_gelu = _plan(arch, pretrained, quick_gelu, cache_dir)
    with _quiet_random_init():
        model = open_clip.create_model(
            arch,
            pretrained=None,
            force_quick_gelu=quick_gelu,
            pretrained_image=False,
            pretrained_text=False,
            cache_dir=cache_dir)
    weights = PretrainedCLIPWeights(model, arch, pretrained, cache_dir,
                                    filename) if pretrained else None
    build = OpenCLIPBuild(model, quick_gelu, weights)
    if shared is not None:
        shared[key] = build
    return build


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
    if pretrained and not arch.startswith(_SCHEMAS):
        # a tag is fetched (or refused offline) before anything is built
        resolve_pretrained(arch, pretrained, cache_dir)
    build = build_open_clip_unloaded(arch, pretrained, quick_gelu, cache_dir)
    if build.weights is not None:
        build.weights.load()
    return build.clip


@contextlib.contextmanager
def shared_open_clip_builds() -> Iterator[None]:
    """Build each CLIP once for the encoders created in this block.

    :class:`OpenCLIPVisual` and :class:`OpenCLIPText` each need half of a
    CLIP; inside this block (``FewShotRecognizer`` opens it around its
    encoders) a second request with the same ``arch``, ``pretrained``,
    ``quick_gelu`` and ``cache_dir`` gets the build the first one made
    (:func:`build_open_clip_unloaded`), so the random init is drawn once
    and the weights are read once, by whichever encoder's
    ``init_weights()`` runs first. Outside it every call builds its own
    model.
    """
    outer = _SHARED.get()
    token = _SHARED.set({} if outer is None else outer)
    try:
        yield
    finally:
        _SHARED.reset(token)
