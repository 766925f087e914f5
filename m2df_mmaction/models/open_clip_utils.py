# Copyright (c) m2df_mmaction contributors.
"""Build ``open_clip`` models by architecture name, offline-safe.

Three things live here, shared by :class:`OpenCLIPVisual` and
:class:`OpenCLIPText`:

1. **The project's tiny architectures.** Every JSON file in
   ``models/open_clip_configs`` is registered with
   :func:`open_clip.add_model_config` once, when this module is imported,
   so ``'TinyCLIP-ViT-32'`` works wherever ``'ViT-B-16'`` does.
2. **Resolving ``pretrained``.** ``None`` (random init), an open_clip tag
   (``'openai'``, ``'laion2b_s34b_b79k'``, ...) or a local file. A tag is
   looked up in the local caches first; if it is not there and the hub
   cannot be reached (``HF_HUB_OFFLINE=1`` or no route to the host) we fail
   at once with a message that says what to download, instead of letting
   ``huggingface_hub`` retry for ~45 s.
3. **Reading local checkpoints.** Plain state dicts, training checkpoints
   (``state_dict`` / ``model`` / ``module`` wrappers, ``module.`` prefixes),
   ``.safetensors`` files and OpenAI's TorchScript ``.pt`` archives, loaded
   strictly, with an error that names the file and the first missing and
   unexpected keys when the checkpoint belongs to another architecture.

open_clip's own :func:`open_clip.load_checkpoint` takes only a path,
unwraps only a ``state_dict`` key, cannot read TorchScript archives with
``weights_only=True`` (``torch.load`` refuses them) and fails with torch's
raw strict-loading error. We therefore read the file ourselves and then
apply the same state-dict fixes it applies (conversion of third-party
layouts, position embedding resizing) through open_clip's public helpers.
"""
import contextlib
import logging
import os
import os.path as osp
import pickle
import socket
import threading
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import urlparse

import open_clip
import torch
import torch.nn as nn
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
from open_clip.convert import convert_state_dict
from open_clip.model import (convert_to_custom_text_state_dict,
                             resize_pos_embed, resize_text_pos_embed)

__all__ = [
    'OPEN_CLIP_CONFIG_DIR', 'CheckpointMismatchError',
    'PretrainedWeightsUnavailableError', 'register_open_clip_configs',
    'resolve_pretrained', 'is_torchscript_archive', 'decide_quick_gelu',
    'read_open_clip_checkpoint', 'read_open_clip_state_dict',
    'load_open_clip_weights', 'build_open_clip_model'
]

OPEN_CLIP_CONFIG_DIR = Path(__file__).parent / 'open_clip_configs'

# Entries of OpenAI's TorchScript archives that are not weights.
_OPENAI_JIT_EXTRA_KEYS = ('input_resolution', 'context_length', 'vocab_size')
# Keys under which training checkpoints keep the model's state dict.
_WRAPPER_KEYS = ('state_dict', 'model', 'module')
# Prefixes added by DDP and by ``torch.compile``.
_WRAPPER_PREFIXES = ('module.', '_orig_mod.')
_SCHEMAS = ('hf-hub:', 'local-dir:')
_PROBE_TIMEOUT_S = 3.0
_MAX_LISTED_KEYS = 5

_registered_dirs: List[str] = []


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not fit the requested architecture."""


class PretrainedWeightsUnavailableError(RuntimeError):
    """An open_clip tag was requested but its weights cannot be fetched."""


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


def _hub_offline() -> bool:
    """Whether huggingface_hub is told to stay offline."""
    flag = os.environ.get('HF_HUB_OFFLINE', '').upper()
    if flag in ('1', 'ON', 'YES', 'TRUE'):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - huggingface_hub is optional
        return False
    return bool(getattr(constants, 'HF_HUB_OFFLINE', False))


def _host_reachable(host: str,
                    port: int = 443,
                    timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """Open (and close) a TCP connection to ``host`` within ``timeout``.

    Name resolution has no timeout of its own, so the probe runs in a daemon
    thread that we stop waiting for after ``timeout`` seconds.
    """
    result = []

    def _probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=_probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)


def _hf_endpoint_host() -> str:
    try:
        from huggingface_hub import constants
        endpoint = constants.ENDPOINT
    except (ImportError, AttributeError):  # pragma: no cover
        endpoint = 'https://huggingface.co'
    return urlparse(endpoint).hostname or 'huggingface.co'


def _cached_tag_file(tag_cfg: dict,
                     cache_dir: Optional[str] = None) -> Optional[str]:
    """Find the weights of an open_clip tag in the local caches.

    Mirrors where :func:`open_clip.download_pretrained` would put them: the
    huggingface_hub cache for ``hf_hub`` entries (``.safetensors``
    alternative first, as open_clip does), ``~/.cache/clip`` for ``url``
    entries. Never touches the network.
    """
    if tag_cfg.get('file') and osp.isfile(tag_cfg['file']):
        return tag_cfg['file']
    hf_hub = tag_cfg.get('hf_hub', '')
    if hf_hub:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:  # pragma: no cover
            try_to_load_from_cache = None
        if try_to_load_from_cache is not None:
            repo_id, filename = os.path.split(hf_hub)
            filename = filename or HF_WEIGHTS_NAME
            candidates = [filename]
            if filename == HF_WEIGHTS_NAME:
                candidates.insert(0, HF_SAFE_WEIGHTS_NAME)
            elif filename.endswith(('.bin', '.pth')):
                candidates.insert(0, filename[:-4] + '.safetensors')
            for name in candidates:
                path = try_to_load_from_cache(
                    repo_id, name, cache_dir=cache_dir)
                if isinstance(path, str) and osp.isfile(path):
                    return path
    url = tag_cfg.get('url', '')
    if url:
        root = cache_dir or osp.expanduser('~/.cache/clip')
        path = osp.join(root, osp.basename(url))
        if osp.isfile(path):
            return path
    return None


def resolve_pretrained(
        arch: str,
        pretrained: Optional[str],
        cache_dir: Optional[str] = None) -> Tuple[Optional[str], dict]:
    """Turn ``pretrained`` into a local checkpoint file.

    Args:
        arch (str): open_clip architecture name, e.g. ``'ViT-B-16'``.
        pretrained (str, optional): ``None`` or ``''`` for random init, a
            path to a local file, or an open_clip tag of ``arch``.
        cache_dir (str, optional): open_clip / huggingface_hub cache folder.
            Defaults to their own defaults.

    Returns:
        tuple[str | None, dict]: The checkpoint file (``None`` for random
        init) and the tag's open_clip config (empty unless a tag was given).

    Raises:
        FileNotFoundError: ``pretrained`` is neither a file nor a tag.
        PretrainedWeightsUnavailableError: A tag whose weights are not
            cached while the hub is offline or unreachable.
    """
    if not pretrained:
        return None, {}
    path = osp.expanduser(str(pretrained))
    if osp.isfile(path):
        return path, {}
    tag_cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if not tag_cfg:
        tags = open_clip.list_pretrained_tags_by_model(arch)
        raise FileNotFoundError(
            f'pretrained={pretrained!r} is neither an existing file nor an '
            f'open_clip tag of {arch!r} (its tags: {tags or "none"}).')
    cached = _cached_tag_file(tag_cfg, cache_dir)
    if cached is not None:
        return cached, tag_cfg

    hf_hub = tag_cfg.get('hf_hub', '')
    url = tag_cfg.get('url', '')
    source = f'hf-hub:{hf_hub}' if hf_hub else url
    host = _hf_endpoint_host() if hf_hub else urlparse(url).hostname
    if _hub_offline():
        reason = 'HF_HUB_OFFLINE is set'
    elif host is None or not _host_reachable(host):
        reason = f'{host} cannot be reached'
    else:
        reason = None
    if reason is not None:
        raise PretrainedWeightsUnavailableError(
            f'Cannot fetch the open_clip weights {pretrained!r} of '
            f'{arch!r} ({source}): {reason} and they are not in the local '
            'cache. Download them on a machine with internet access, e.g. '
            f'`python -c "import open_clip; open_clip.create_model('
            f"'{arch}', pretrained='{pretrained}')\"` (it caches them), or "
            'download the checkpoint file and pass its local path as '
            '`pretrained` (a state dict, training checkpoint, .safetensors '
            "or OpenAI's TorchScript .pt file).")
    return open_clip.download_pretrained(tag_cfg, cache_dir=cache_dir), tag_cfg


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


def _adapt_state_dict(model: nn.Module, state_dict: Dict) -> Dict:
    """Apply the fixes of :func:`open_clip.load_checkpoint` to a dict."""
    state_dict = convert_state_dict(model, state_dict)
    if ('positional_embedding' in state_dict
            and not hasattr(model, 'positional_embedding')):
        state_dict = convert_to_custom_text_state_dict(state_dict)
    for name in ('logit_scale', 'logit_bias'):
        param = getattr(model, name, None)
        if name in state_dict and param is not None:
            state_dict[name] = state_dict[name].reshape(param.shape)
    if ('logit_bias' not in state_dict
            and getattr(model, 'logit_bias', None) is not None
            and 'logit_scale' in state_dict):
        state_dict['logit_bias'] = torch.zeros_like(state_dict['logit_scale'])
    position_id_key = 'text.transformer.embeddings.position_ids'
    if position_id_key in state_dict and not hasattr(model, position_id_key):
        del state_dict[position_id_key]
    # Non-persistent buffers (e.g. the text attention mask) are built by the
    # model; TorchScript archives list them among their tensors.
    persistent = model.state_dict().keys()
    for name, _ in model.named_buffers():
        if name not in persistent:
            state_dict.pop(name, None)
    resize_pos_embed(state_dict, model)
    resize_text_pos_embed(state_dict, model)
    return state_dict


def _first(keys: List[str]) -> str:
    shown = ', '.join(keys[:_MAX_LISTED_KEYS])
    more = len(keys) - _MAX_LISTED_KEYS
    return shown + (f', ... (+{more} more)' if more > 0 else '')


def load_open_clip_weights(model: nn.Module,
                           checkpoint: Union[str, Dict[str, torch.Tensor]],
                           arch: str = 'the model',
                           source: Optional[str] = None) -> None:
    """Load weights into an open_clip model, strictly.

    Args:
        model (nn.Module): A model built by :func:`open_clip.create_model`.
        checkpoint (str | dict): A checkpoint file (any format of
            :func:`read_open_clip_checkpoint`) or its state dict.
        arch (str): Architecture name, only used in error messages.
        source (str, optional): File name for error messages when a state
            dict is given.

    Raises:
        CheckpointMismatchError: Missing, unexpected or differently shaped
            entries; the message lists the first few of each and the file.
    """
    if isinstance(checkpoint, str):
        source = checkpoint
        checkpoint = read_open_clip_state_dict(checkpoint)
    filename = source or 'the state dict'
    state_dict = _adapt_state_dict(model, dict(checkpoint))
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f'{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}'
        for k, v in state_dict.items()
        if k in expected and v.shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing keys: {_first(missing)}')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys: '
                         f'{_first(unexpected)}')
        if mismatched:
            parts.append(f'{len(mismatched)} shape mismatches '
                         f'(checkpoint vs model): {_first(mismatched)}')
        raise CheckpointMismatchError(
            f'Checkpoint {filename} does not fit open_clip architecture '
            f'{arch!r}: ' + '; '.join(parts) +
            '. Was it saved from another architecture?')
    model.load_state_dict(state_dict, strict=True)


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
    filename, tag_cfg = resolve_pretrained(arch, pretrained, cache_dir)
    state_dict, meta = read_open_clip_checkpoint(filename) \
        if filename is not None else (None, {})
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
    if state_dict is not None:
        load_open_clip_weights(model, state_dict, arch=arch, source=filename)
    return model


register_open_clip_configs()
