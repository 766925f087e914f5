# Copyright (c) m2df_mmaction contributors.
"""Weights of the official HyRSM and HyRSM++ heads, in this project's names.

``CNN_HyRSM_1shot`` / ``_5shot`` (alibaba-mmai-research/HyRSM) and
``CNN_HyRSM_plusplus_1shot`` / ``_5shot`` (/HyRSMPlusPlus) have the same
parameters under the same names, so one mapping serves both
(``HyRSMHead``). After removing the wrapper prefixes (``module.`` of
DataParallel/DDP, ``head.`` of the official video model):

===================================  =========================================
official key                         this project (``FewShotRecognizer``)
===================================  =========================================
``pe.pe``                            ``cls_head.relation.pe.pe``
``temporal_atte_before.norm.*``      ``cls_head.relation.intra.norm.*``
``temporal_atte_before.fn.to_qkv``   ``cls_head.relation.intra.to_{q,k,v}``
  ``.weight`` ``[3 H d, D]``           ``.weight``: its three row blocks
``temporal_atte_before.fn.to_out.0``  ``cls_head.relation.intra.to_out.0.*``
``temporal_atte.w_{qs,ks,vs}.*``     ``cls_head.relation.inter.to_{q,k,v}.*``
``temporal_atte.fc.*``               ``cls_head.relation.inter.to_out.*``
``temporal_atte.layer_norm.*``       ``cls_head.relation.inter.norm.*``
``layer2.0.*``                       ``cls_head.relation.fuse.*``
``classification_layer.*``           ``cls_head.frame_classifier.*``
``backbone.{0,1}.*``                 ``backbone.conv1.{conv,bn}.*``
``backbone.{4..7}.j.convk / bnk``    ``backbone.layer{1..4}.j.convk.{conv,bn}``
``….downsample.{0,1}.*``             ``….downsample.{conv,bn}.*``
===================================  =========================================

The backbone is torchvision's ResNet with its last child (``fc``) cut off
(``nn.Sequential(*children()[:-1])`` in ``CNN_FSHead``, so its children
are numbered: 0 ``conv1``, 1 ``bn1``, 4–7 ``layer1``–``layer4``); the
project's MMAction2 ``ResNet`` names them as
``ResNet._load_torchvision_checkpoint`` does. Nothing is dropped:
HyRSM++ builds its classifier only with ``USE_CLASSIFICATION`` and HyRSM
always (then ``HyRSMHead`` needs ``loss_frame_cls`` set to load it).
"""
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch

from .official_keys_common import (refuse_unknown_keys, strip_wrappers,
                                   torchvision_resnet_key)

__all__ = ['map_hyrsm_state_dict', 'hyrsm_official_state_dict']

_HEAD = OrderedDict([
    ('pe.pe', 'relation.pe.pe'),
    ('temporal_atte_before.norm.', 'relation.intra.norm.'),
    ('temporal_atte_before.fn.to_out.0.', 'relation.intra.to_out.0.'),
    ('temporal_atte.w_qs.', 'relation.inter.to_q.'),
    ('temporal_atte.w_ks.', 'relation.inter.to_k.'),
    ('temporal_atte.w_vs.', 'relation.inter.to_v.'),
    ('temporal_atte.fc.', 'relation.inter.to_out.'),
    ('temporal_atte.layer_norm.', 'relation.inter.norm.'),
    ('layer2.0.', 'relation.fuse.'),
    ('classification_layer.', 'frame_classifier.'),
])
_QKV = 'temporal_atte_before.fn.to_qkv.weight'
_QKV_OURS = tuple(f'relation.intra.to_{x}.weight' for x in 'qkv')


def map_hyrsm_state_dict(
    state_dict: Mapping[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official HyRSM / HyRSM++ state dict to this project's keys.

    Args:
        state_dict (Mapping[str, Tensor]): The official model's state dict.

    Returns:
        tuple: The renamed state dict (``backbone.*`` and ``cls_head.*``
        keys of a ``FewShotRecognizer`` with a ``HyRSMHead``) and the keys
        dropped on purpose (none).

    Raises:
        ValueError: Keys the mapping does not know (listed).
    """
    converted, unknown = OrderedDict(), []
    for key, value in strip_wrappers(state_dict).items():
        if key == _QKV:
            for new, block in zip(_QKV_OURS, value.chunk(3, dim=0)):
                converted[f'cls_head.{new}'] = block
            continue
        if key.startswith('backbone.'):
            new = torchvision_resnet_key(key[len('backbone.'):])
            if new:
                converted[f'backbone.{new}'] = value
                continue
        else:
            for old, ours in _HEAD.items():
                if key.startswith(old):
                    converted['cls_head.' + ours + key[len(old):]] = value
                    break
            else:
                unknown.append(key)
            continue
        unknown.append(key)
    refuse_unknown_keys(unknown, 'hyrsm', 'HyRSM or HyRSM++')
    return converted, []


def hyrsm_official_state_dict(
        head_state: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The inverse for the head: a ``HyRSMHead``'s state dict (or its
    gradients, by parameter name, without the ``cls_head.`` prefix) under
    the official names (``to_q/k/v`` stacked back into ``to_qkv``).
    Entries the official head lacks (``log_scale``) are left out."""
    inverse = {ours: old for old, ours in _HEAD.items()}
    out = {}
    for key, value in head_state.items():
        for ours, old in inverse.items():
            if key.startswith(ours):
                out[old + key[len(ours):]] = value
                break
    if all(k in head_state for k in _QKV_OURS):
        out[_QKV] = torch.cat([head_state[k] for k in _QKV_OURS], dim=0)
    return out
