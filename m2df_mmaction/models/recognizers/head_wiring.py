# Copyright (c) m2df_mmaction contributors.
"""How a recognizer wires its head to its encoders: dims and needs."""
import copy
import inspect
from typing import Optional

import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import ConfigType

from m2df_mmaction.structures import HEAD_NEEDS
from ..backbones.frame_features import (FrameFeatureRequest,
                                        check_frame_request)

__all__ = ['complete_head_cfg', 'check_head_needs']


def complete_head_cfg(cls_head: ConfigType, backbone: nn.Module,
                      text_encoder: Optional[nn.Module]) -> dict:
    """Fill ``embed_dims``/``text_dims`` of a head config from the
    encoders, where the head takes them and the config leaves them out.

    Args:
        cls_head (dict): The head config (copied).
        backbone (nn.Module): Its ``embed_dims`` (OpenMMLab's name, as our
            encoders and MMAction2's ViTs spell it) or ``feat_dim``
            (MMAction2's ResNets) gives ``embed_dims``.
        text_encoder (nn.Module, optional): Its ``embed_dims`` gives
            ``text_dims``. A side-network encoder's ``side_dims`` (e.g.
            :class:`OpenCLIPSide`) gives ``side_dims``.

    Returns:
        dict: The completed config.
    """
    cls_head = copy.deepcopy(dict(cls_head))
    head_type = cls_head['type']
    head_cls = MODELS.get(head_type) if isinstance(head_type, str) \
        else head_type
    if head_cls is None:
        return cls_head  # let MODELS.build report the unknown type
    params = inspect.signature(head_cls.__init__).parameters
    visual_dim = next(
        (getattr(backbone, name) for name in ('embed_dims', 'feat_dim')
         if isinstance(getattr(backbone, name, None), int)), None)
    dims = dict(
        embed_dims=visual_dim,
        text_dims=getattr(text_encoder, 'embed_dims', None),
        side_dims=getattr(backbone, 'side_dims', None))
    for name, value in dims.items():
        if name in params and cls_head.get(name) is None and \
                value is not None:
            cls_head[name] = value
    return cls_head


def check_head_needs(head: nn.Module, backbone: nn.Module,
                     text_encoder: Optional[nn.Module],
                     neck: Optional[nn.Module] = None) -> FrameFeatureRequest:
    """Refuse, when the model is built, a head that needs what the
    recognizer cannot give; return what to ask the encoder for.

    Args:
        head (BaseFewShotHead): Its ``needs`` and ``token_layers``.
        backbone (nn.Module): The frame encoder (encoder contract:
            :func:`check_frame_request`).
        text_encoder (nn.Module, optional): Needed for ``text`` and
            ``class_text``.
        neck (nn.Module, optional): The recognizer's neck.

    Returns:
        FrameFeatureRequest: The frame kinds (and token layers) the head
        reads.

    Raises:
        ValueError: An unknown need, text without a text encoder, or a
            frame kind the encoder cannot provide (naming both).
    """
    name = type(head).__name__
    needs = head.needs
    unknown = set(needs) - set(HEAD_NEEDS)
    if unknown:
        raise ValueError(f'{name}.needs names unknown inputs '
                         f'{sorted(unknown)}; known: '
                         f'{", ".join(HEAD_NEEDS)}.')
    text = needs & {'text', 'class_text'}
    if text and text_encoder is None:
        raise ValueError(
            f'{name} needs {sorted(text)} (class-name text): give '
            'FewShotRecognizer a text_encoder (e.g. OpenCLIPText).')
    request = FrameFeatureRequest.from_kinds(
        needs & {'frames', 'spatial', 'tokens'},
        layers=tuple(getattr(head, 'token_layers', ())))
    check_frame_request(backbone, request, neck, requester=name)
    return request
