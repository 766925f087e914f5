# Copyright (c) m2df_mmaction contributors.
"""``pretrained`` -> a local weights file, failing fast without a network.

A tag is looked up where :func:`open_clip.download_pretrained` would have
put it (the huggingface_hub cache, ``~/.cache/clip``), never touching the
network. Only if it is not there is it downloaded, and then only if the hub
can be reached: ``huggingface_hub`` retries an unreachable host for ~45 s
per file unless ``HF_HUB_OFFLINE`` was set before it was imported, so we
probe first (3 s) and fail at once with a message that says what to do.
"""
import os
import os.path as osp
import socket
import threading
from typing import Optional, Tuple
from urllib.parse import urlparse

import open_clip
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

from m2df_mmaction.utils.paths import shipped_path

__all__ = [
    'PretrainedWeightsUnavailableError', 'locate_pretrained',
    'resolve_pretrained'
]

_PROBE_TIMEOUT_S = 3.0


class PretrainedWeightsUnavailableError(RuntimeError):
    """An open_clip tag was requested but its weights cannot be fetched."""


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


def locate_pretrained(
        arch: str,
        pretrained: Optional[str],
        cache_dir: Optional[str] = None) -> Tuple[Optional[str], dict]:
    """Find the local file of ``pretrained``, never touching the network.

    Args:
        arch (str): open_clip architecture name, e.g. ``'ViT-B-16'``.
        pretrained (str, optional): ``None`` or ``''`` for random init, a
            path to a local file, or an open_clip tag of ``arch``.
        cache_dir (str, optional): open_clip / huggingface_hub cache folder.
            Defaults to their own defaults.

    Returns:
        tuple[str | None, dict]: The local file (``None`` for random init
        and for a tag that is not in the local cache) and the tag's open_clip
        config (empty unless a tag was given).

    Raises:
        FileNotFoundError: ``pretrained`` is neither a file nor a tag.
    """
    if not pretrained:
        return None, {}
    path = shipped_path(pretrained)
    if osp.isfile(path):
        return path, {}
    tag_cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if not tag_cfg:
        tags = open_clip.list_pretrained_tags_by_model(arch)
        raise FileNotFoundError(
            f'pretrained={pretrained!r} is neither an existing file nor an '
            f'open_clip tag of {arch!r} (its tags: {tags or "none"}).')
    return _cached_tag_file(tag_cfg, cache_dir), tag_cfg


def resolve_pretrained(
        arch: str,
        pretrained: Optional[str],
        cache_dir: Optional[str] = None) -> Tuple[Optional[str], dict]:
    """Turn ``pretrained`` into a local checkpoint file, downloading a tag
    that is not cached (:func:`locate_pretrained` first).

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
    cached, tag_cfg = locate_pretrained(arch, pretrained, cache_dir)
    if cached is not None or not tag_cfg:
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
