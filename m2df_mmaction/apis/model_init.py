# Copyright (c) m2df_mmaction contributors.
"""Build a few-shot recognizer from a config and a checkpoint."""
import copy
import os
import os.path as osp
import warnings
from pathlib import Path
from typing import Optional, Union

import open_clip
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import get_str_type
from mmengine.config import Config, ConfigDict
from mmengine.device import get_device
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from m2df_mmaction.models.open_clip_utils import is_torchscript_archive
from m2df_mmaction.models.open_clip_utils.build import _quiet_random_init
from m2df_mmaction.models.recognizers import FewShotRecognizer
from m2df_mmaction.utils import (check_cfg_options, check_checkpoint_matches,
                                 check_device, flush_denormal_for_device,
                                 load_checkpoint_file, registry_hints)

__all__ = ['init_fewshot_recognizer', 'load_fewshot_config']

_OPEN_CLIP_TYPES = ('OpenCLIPVisual', 'OpenCLIPText')


def load_fewshot_config(config: Union[str, Path, Config],
                        cfg_options: Optional[dict] = None) -> Config:
    """Load a config and check that its model is a few-shot recognizer.

    Args:
        config (str | Path | Config): Config file or object (copied).
        cfg_options (dict, optional): ``{dotted.key: value}`` overrides, as
            ``--cfg-options`` of the tools; unknown keys are refused.

    Returns:
        Config: The config.

    Raises:
        TypeError: ``model.type`` is not :class:`FewShotRecognizer` (or a
            subclass).
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file {config} not found.')
        cfg = Config.fromfile(str(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a filename or a Config, got '
                        f'{type(config).__name__}.')
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model_type = cfg.get('model', {}).get('type')
    model_cls = MODELS.get(model_type) if isinstance(model_type, str) \
        else model_type
    if not (isinstance(model_cls, type)
            and issubclass(model_cls, FewShotRecognizer)):
        name = get_str_type(model_type) if model_type is not None else None
        raise TypeError(
            f'{getattr(cfg, "filename", None) or "The config"}: model.type '
            f'is {name!r}, not a FewShotRecognizer. The few-shot inference '
            'API needs a few-shot config (e.g. configs/m2df_demo_5w1s.py); '
            'for ordinary recognizers use mmaction.apis.init_recognizer.')
    return cfg


def _uses_quick_gelu(arch: str, pretrained: str, key: str) -> bool:
    """Whether the weights named by ``pretrained`` need QuickGELU, decided
    as :func:`build_open_clip_model` decides it, without loading them."""
    path = osp.expanduser(str(pretrained))
    if osp.isfile(path):
        return is_torchscript_archive(path)
    tag_cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if tag_cfg:
        return bool(tag_cfg.get('quick_gelu', False))
    raise FileNotFoundError(
        f'model.{key}.pretrained={pretrained!r} is neither a file here nor '
        f'an open_clip tag of {arch!r}. The checkpoint holds the weights, '
        'but whether they use QuickGELU depends on that file: set '
        f'model.{key}.quick_gelu=True (OpenAI weights) or False '
        '(cfg_options / --cfg-options).')


def _skip_pretrained(model_cfg: ConfigDict) -> None:
    """Do not load pretrained encoder weights: the checkpoint has them.

    As :func:`mmaction.apis.init_recognizer` does for the backbone, so that
    no download is tried. For the open_clip encoders ``quick_gelu`` is
    first fixed from the pretrained weights, since it changes the network.
    """
    for key in ('backbone', 'text_encoder'):
        sub = model_cfg.get(key)
        if not isinstance(sub, dict) or not sub.get('pretrained'):
            continue
        if get_str_type(sub.get('type')) in _OPEN_CLIP_TYPES and \
                sub.get('quick_gelu') is None:
            sub['quick_gelu'] = _uses_quick_gelu(sub['arch'],
                                                 sub['pretrained'], key)
        sub['pretrained'] = None


def init_fewshot_recognizer(config: Union[str, Path, Config],
                            checkpoint: Optional[str] = None,
                            device: Optional[Union[str,
                                                   torch.device]] = None,
                            cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a :class:`FewShotRecognizer` for inference.

    The few-shot counterpart of :func:`mmaction.apis.init_recognizer`, with
    the checks a trained few-shot model needs, all before the checkpoint's
    weights are loaded: the config's model must be a few-shot recognizer
    and the checkpoint must hold exactly its weights
    (:func:`check_checkpoint_matches`; MMEngine's loader alone would load
    another model's checkpoint with a warning). Pretrained encoder weights
    named in the config are not loaded (the checkpoint has them), so no
    download is tried.

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint file. None keeps random
            weights (with a warning). Defaults to None.
        device (str | torch.device, optional): Device of the model. None:
            MMEngine's :func:`get_device` (a GPU if there is one). A device
            this machine lacks (``'cuda'`` without a GPU) is refused before
            anything is built (:func:`check_device`).
        cfg_options (dict, optional): Config overrides (see
            :func:`load_fewshot_config`).

    On the CPU, subnormal floats are flushed to zero in every torch thread
    of the process from then on, unless the config says
    ``flush_denormal=False`` (:func:`flush_denormal_for_device`).

    Returns:
        FewShotRecognizer: In eval mode on ``device``, with ``cfg`` set.
    """
    check_device(device)
    cfg = load_fewshot_config(config, cfg_options)
    if checkpoint is not None and not osp.isfile(os.fspath(checkpoint)):
        raise FileNotFoundError(f'Checkpoint {checkpoint} not found.')
    _skip_pretrained(cfg.model)
    # Read (and checked for truncation) before anything is built; the
    # encoders' random initialisation is not announced: the checkpoint
    # replaces it.
    state = None if checkpoint is None else \
        load_checkpoint_file(os.fspath(checkpoint))
    with registry_hints(), _quiet_random_init(checkpoint is not None):
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        check_checkpoint_matches(model, os.fspath(checkpoint), state)
        _load_checkpoint_to_model(model, state)
    else:
        warnings.warn('No checkpoint given: the few-shot recognizer keeps '
                      'its random weights.')
    model.cfg = cfg
    device = device if device is not None else get_device()
    model.to(device)
    model.eval()
    # on the CPU: subnormal floats flushed to zero, process-wide, as in
    # training and testing (config key flush_denormal; utils/denormal.py)
    flush_denormal_for_device(cfg, device)
    return model
