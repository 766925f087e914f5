# Copyright (c) m2df_mmaction contributors.
"""Weights of the official D2ST-Adapter ViT model, in this project's names.

The official ``ViT_CLIP`` (qizhongtan/D2ST-Adapter ``44387fa``,
``models/base/adapter.py``) is OpenAI CLIP's visual tower (OpenAI key
names, its ``proj`` deleted) with a ``ViT_D2ST_Adapter`` named ``Adapter``
in every residual block, a temporal embedding and the classifier; the
checkpoint wraps it as ``model.`` (``BaseVideoModel``) and, under DDP,
``module.``. A ``FewShotRecognizer`` with an :class:`OpenCLIPAdapted`
encoder (open_clip keeps OpenAI's names) and a :class:`D2STHead`:

=============================================  ===============================
official key (after ``module.``, ``model.``)   this project
=============================================  ===============================
``conv1``, ``class_embedding``,                ``backbone.visual.<same>``
``positional_embedding``, ``ln_pre``,
``transformer.resblocks.i.{ln_1,attn,ln_2,``
``mlp}``, ``ln_post``
``transformer.resblocks.i.Adapter.*``          ``backbone.adapters.i.*``
``….{s,t}_attn.conv_offset.1.norm.*``          ``….{s,t}_attn.conv_offset.1.*``
``temporal_embedding``                         ``backbone.temporal_embedding``
``classification_layer.*``                     ``cls_head.video_classifier.*``
=============================================  ===============================

The official ``ResNet`` variant (same file) is a torchvision ResNet cut into
``stage1`` (``conv1, bn1, relu, maxpool, layer1``) and ``stage2..4``
(``layer2..4``'s blocks) with ``Adapter_1..4`` after the stages; a
``FewShotRecognizer`` with a :class:`ResNetAdapted` encoder and a
:class:`D2STHead`:

=============================================  ===============================
official key                                   this project
=============================================  ===============================
``stage1.0.*``, ``stage1.1.*``                 ``backbone.conv1.{conv,bn}.*``
``stage1.4.j.*``, ``stagek.j.*`` (k = 2..4)    ``backbone.layerk.j.*``
                                               (torchvision's block names in
                                               MMAction2's, as
                                               ``torchvision://`` loading)
``Adapter_k.*`` (k = 1..4)                     ``backbone.adapters.{k-1}.*``;
                                               ``1x1x1`` Conv3d weights
                                               reshaped to linear ones,
                                               ``….norm.`` dropped from the
                                               LayerNorm names
``classification_layer.*``                     ``cls_head.video_classifier.*``
=============================================  ===============================

``adapters.i`` is the ``i``-th adapted block (stage), so the mapping assumes
the official layout: an adapter in every block (stage). The official ViT
has no ``proj`` (deleted before loading CLIP); the encoder's own, unused
with ``project=False``, stays as built.
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Tuple

import torch

from .official_keys_common import (refuse_unknown_keys,
                                   torchvision_resnet_key)

__all__ = ['map_d2st_state_dict']

_CLIP = re.compile(r'(conv1\.|class_embedding$|positional_embedding$|ln_pre\.|'
                   r'ln_post\.|transformer\.resblocks\.\d+\.'
                   r'(ln_1|attn|ln_2|mlp)\.)')
_ADAPTER = re.compile(r'transformer\.resblocks\.(\d+)\.Adapter\.(.+)')
_RESNET = re.compile(r'stage([1-4])\.(.+)')
_RESNET_ADAPTER = re.compile(r'Adapter_([1-4])\.(.+)')
# 1x1x1 Conv3d of ResNet_D2ST_Adapter / ResNet_DeformAttention: linear here
_POINTWISE = re.compile(r'(down|up|.*proj_[qkvo]\w*)\.weight')


def _strip(key: str) -> str:
    for prefix in ('module.', 'model.'):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


def map_d2st_state_dict(
    state_dict: Mapping[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official D2ST-Adapter ViT state dict to this project's
    keys.

    Args:
        state_dict (Mapping[str, Tensor]): The official model's state dict
            (``model_state`` of its checkpoints).

    Returns:
        tuple: The renamed state dict and the keys dropped on purpose
        (none).

    Raises:
        ValueError: Keys the mapping does not know (listed).
    """
    state_dict = {_strip(k): v for k, v in state_dict.items()}
    if any(_RESNET.match(k) or _RESNET_ADAPTER.match(k) for k in state_dict):
        return _map_resnet(state_dict)
    converted, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        adapter = _ADAPTER.match(key)
        if adapter:
            rest = re.sub(r'conv_offset\.1\.norm\.', 'conv_offset.1.',
                          adapter.group(2))
            converted[f'backbone.adapters.{adapter.group(1)}.{rest}'] = value
        elif key == 'temporal_embedding':
            converted['backbone.temporal_embedding'] = value
        elif key.startswith('classification_layer.'):
            converted['cls_head.video_classifier.' +
                      key[len('classification_layer.'):]] = value
        elif _CLIP.match(key):
            converted[f'backbone.visual.{key}'] = value
        else:
            unknown.append(key)
    refuse_unknown_keys(unknown, 'd2st', 'D2ST-Adapter', 'ViT_CLIP')
    return converted, []


def _map_resnet(
    state_dict: Mapping[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """The ResNet variant (see the module docstring)."""
    converted, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        stage, adapter = _RESNET.match(key), _RESNET_ADAPTER.match(key)
        if stage:
            k, rest = int(stage.group(1)), stage.group(2)
            # stage1: torchvision children 0-4 (conv1, bn1, relu, maxpool,
            # layer1) as they are; stage k > 1: layer k, child 3 + k
            tv = rest if k == 1 else f'{3 + k}.{rest}'
            name = torchvision_resnet_key(tv)
            if name:
                converted[f'backbone.{name}'] = value
            else:
                unknown.append(key)
        elif adapter:
            rest = re.sub(r'(^|\.)(s_ln|t_ln|conv_offset\.1)\.norm\.',
                          r'\1\2.', adapter.group(2))
            if _POINTWISE.fullmatch(rest) and value.dim() == 5:
                value = value.flatten(1)
            index = int(adapter.group(1)) - 1
            converted[f'backbone.adapters.{index}.{rest}'] = value
        elif key.startswith('classification_layer.'):
            converted['cls_head.video_classifier.' +
                      key[len('classification_layer.'):]] = value
        else:
            unknown.append(key)
    refuse_unknown_keys(unknown, 'd2st', 'D2ST-Adapter', 'ResNet')
    return converted, []
