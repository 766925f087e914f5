# Copyright (c) m2df_mmaction contributors.
"""Weights of the official MoLo head in this project's names.

The official ``CNN_BiMHM_MoLo`` (``models/base/few_shot.py`` of
alibaba-mmai-research/MoLo ``f7f73b6``, L2390-L2452) holds its modules
under the names on the left; :class:`MoLoHead` under the names on the
right (after ``module.``/``head.`` wrappers are removed by
:func:`convert_official_state_dict`):

===========================================  =================================
official key                                 this project (``cls_head.*``)
===========================================  =================================
``class_token``, ``class_token_motion``      same
``pe.pe``                                    ``pe.pe``
``temporal_atte_before.*``                   ``transformer.*``
``temporal_atte_before_motion.*``            ``transformer_motion.*``
``…layers.i.0.norm.*``                       ``….attns.i.norm.*``
``…layers.i.0.fn.to_qkv.weight``             ``….attns.i.to_{q,k,v}.weight``
                                             (split in three along dim 0)
``…layers.i.0.fn.to_out.0.*``                ``….attns.i.to_out.0.*``
``…layers.i.1.net.{0,3}.*``                  ``….ffns.i.{0,3}.*``
``motion_reduce|motion_conv|motion_up.*``    ``motion.reduce|conv|up.*``
``classification_layer.*``                   ``classifier.*``
``up{1,2,3}.conv.double_conv.0.weight``      ``decoder.convs.{0,1,2}.conv.*``
``up{1,2,3}.conv.double_conv.1.*``           ``decoder.convs.{0,1,2}.bn.*``
``outc.conv.*``                              ``decoder.out_conv.*``
``scale`` / ``scale_motion`` ``[1]``         ``loss_contrastive.scale`` /
                                             ``loss_contrastive_motion.scale``
                                             (0-d)
``backbone.{0,1}.*``                         ``backbone.conv1.{conv,bn}.*``
``backbone.{4..7}.j.{convk,bnk}.*``          ``backbone.layer{1..4}.j.convk.
                                             {conv,bn}.*``
``backbone.{4..7}.j.downsample.{0,1}.*``     ``….downsample.{conv,bn}.*``
===========================================  =================================

The backbone is torchvision's ResNet without ``avgpool`` and ``fc``
(``CNN_FSHead`` L1152-L1162, MoLo's ``children()[:-1]``), mapped to
MMAction2's ``ResNet`` (``conv1``/``layer1..4`` with ``ConvModule``
children), the encoder whose ``layer4`` map the encoder contract gives as
``spatial``. Nothing is dropped: every official parameter is used.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch

from .official_keys_common import refuse_unknown_keys, torchvision_resnet_key

__all__ = ['map_molo_state_dict']

_RENAMES = (
    (r'temporal_atte_before_motion\.', 'transformer_motion.'),
    (r'temporal_atte_before\.', 'transformer.'),
    (r'motion_(reduce|conv|up)\.', r'motion.\1.'),
    (r'classification_layer\.', 'classifier.'),
    (r'outc\.conv\.', 'decoder.out_conv.'),
)
_TRANSFORMER = (
    (r'(layers\.\d+\.0\.fn\.to_qkv\.weight)', r'\1'),  # split later
    (r'layers\.(\d+)\.0\.norm\.', r'attns.\1.norm.'),
    (r'layers\.(\d+)\.0\.fn\.to_out\.0\.', r'attns.\1.to_out.0.'),
    (r'layers\.(\d+)\.1\.net\.(0|3)\.', r'ffns.\1.\2.'),
)
_QKV = re.compile(r'(transformer(?:_motion)?)\.layers\.(\d+)\.0\.fn\.'
                  r'to_qkv\.weight')
_DECODER = re.compile(r'up([123])\.conv\.double_conv\.([01])\.(.+)')
_SCALES = {'scale': 'loss_contrastive.scale',
           'scale_motion': 'loss_contrastive_motion.scale'}


def _backbone_key(key: str) -> str:
    """MMAction2 ``ResNet`` name of a torchvision ResNet key ('' if
    unknown), ``backbone.`` prefix kept."""
    if not key.startswith('backbone.'):
        return ''
    name = torchvision_resnet_key(key[len('backbone.'):])
    return f'backbone.{name}' if name else ''


def _head_key(key: str) -> str:
    """``cls_head`` name of an official head key ('' if unknown)."""
    if key in ('class_token', 'class_token_motion', 'pe.pe'):
        return key
    if key in _SCALES:
        return _SCALES[key]
    match = _DECODER.fullmatch(key)
    if match:
        stage, part, name = match.groups()
        return (f'decoder.convs.{int(stage) - 1}.'
                f'{"conv" if part == "0" else "bn"}.{name}')
    for pattern, repl in _RENAMES:
        if re.match(pattern, key):
            key = re.sub(pattern, repl, key, count=1)
            break
    else:
        return ''
    if key.startswith('transformer'):
        stream, rest = key.split('.', 1)
        for pattern, repl in _TRANSFORMER:
            if re.match(pattern, rest):
                return f'{stream}.{re.sub(pattern, repl, rest, count=1)}'
        return ''
    return key


def map_molo_state_dict(
    state_dict: Mapping[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official MoLo state dict (wrappers already removed).

    Args:
        state_dict (Mapping[str, Tensor]): ``CNN_BiMHM_MoLo``'s keys, or
            tensors keyed by them (e.g. gradients).

    Returns:
        tuple: The renamed state dict (``cls_head.*`` and ``backbone.*``
        keys of a ``FewShotRecognizer``) and the keys dropped on purpose
        (none).

    Raises:
        ValueError: Keys the mapping does not know (listed).
    """
    converted: Dict[str, torch.Tensor] = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            new = _backbone_key(key)
            if new:
                converted[new] = value
            else:
                unknown.append(key)
            continue
        new = _head_key(key)
        if not new:
            unknown.append(key)
            continue
        match = _QKV.fullmatch(new)
        if match:
            stream, layer = match.groups()
            for name, part in zip('qkv', value.chunk(3, dim=0)):
                converted[f'cls_head.{stream}.attns.{layer}.to_{name}.'
                          'weight'] = part
            continue
        if key in _SCALES and value.shape == (1, ):
            value = value.reshape(())  # official [1]; ours 0-d
        converted[f'cls_head.{new}'] = value
    refuse_unknown_keys(unknown, 'MoLo', 'MoLo', 'CNN_BiMHM_MoLo')
    return converted, []
