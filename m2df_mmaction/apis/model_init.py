# Copyright (c) m2df_mmaction contributors.
"""Build a few-shot recognizer from a config and a checkpoint."""
import copy
import os
import os.path as osp
import warnings
from pathlib import Path
from typing import Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import get_str_type
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from m2df_mmaction.models.open_clip_utils import model_cfg_for_checkpoint
from m2df_mmaction.models.recognizers import FewShotRecognizer
from m2df_mmaction.utils import (check_cfg_options, check_checkpoint_matches,
                                 check_device, flush_denormal_for_device,
                                 load_checkpoint_file, registry_hints)

__all__ = [
    'init_fewshot_recognizer', 'load_fewshot_config',
    'model_cfg_for_checkpoint'
]


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
    another model's checkpoint with a warning). The network is built by
    :func:`model_cfg_for_checkpoint`: pretrained encoder weights named in
    the config are not read (the checkpoint has them), so no download is
    tried, and the encoders use the activation the checkpoint stores.

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
    # Read (and checked for truncation) before anything is built.
    state = None if checkpoint is None else \
        load_checkpoint_file(os.fspath(checkpoint))
    cfg.model = model_cfg_for_checkpoint(cfg.model, state)
    with registry_hints():
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
