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

``adapters.i`` is the ``i``-th adapted block, so the mapping assumes the
official layout: an adapter in every block. The official model has no
``proj`` (deleted before loading CLIP); the encoder's own, unused with
``project=False``, stays as built.
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Tuple

import torch

from .official_keys_common import refuse_unknown_keys

__all__ = ['map_d2st_state_dict']

_CLIP = re.compile(r'(conv1\.|class_embedding$|positional_embedding$|ln_pre\.|'
                   r'ln_post\.|transformer\.resblocks\.\d+\.'
                   r'(ln_1|attn|ln_2|mlp)\.)')
_ADAPTER = re.compile(r'transformer\.resblocks\.(\d+)\.Adapter\.(.+)')


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
        ValueError: Keys the mapping does not know (listed), e.g. those of
            the ResNet variant.
    """
    converted, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        key = _strip(key)
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
