# Copyright (c) m2df_mmaction contributors.
"""Keys of the official TRX model (``CNN_TRX``) in this project's names.

The official head (alibaba-mmai-research/MoLo ``models/base/few_shot.py``
``CNN_TRX`` L1330 with ``TemporalCrossTransformer`` L1227, at ``f7f73b6``;
the same class in CLIP-FSAR, HyRSM and HyRSMPlusPlus) holds a torchvision
ResNet without its ``fc`` as ``backbone`` (``nn.Sequential`` of its
children, ``CNN_FSHead`` L1150-1162) and one transformer per cardinality
(2, 3) as ``transformers.{i}``. After the wrapper prefixes are removed
(``module.`` of DataParallel/DDP, ``head.`` of the video model;
:func:`official_keys_common.strip_wrappers`):

=================================  ===========================================
official key                       this project (``FewShotRecognizer``)
=================================  ===========================================
``transformers.{i}.k_linear.*``    ``cls_head.transformers.{i}.k_linear.*``
``transformers.{i}.v_linear.*``    ``cls_head.transformers.{i}.v_linear.*``
``transformers.{i}.norm_k.*``      ``cls_head.transformers.{i}.norm_k.*``
``backbone.0.*``                   ``backbone.conv1.conv.*``
``backbone.1.*``                   ``backbone.conv1.bn.*``
``backbone.{4..7}.{b}.conv{j}.*``  ``backbone.layer{1..4}.{b}.conv{j}.conv.*``
``backbone.{4..7}.{b}.bn{j}.*``    ``backbone.layer{1..4}.{b}.conv{j}.bn.*``
``….downsample.0.*``               ``….downsample.conv.*``
``….downsample.1.*``               ``….downsample.bn.*``
=================================  ===========================================

(the backbone: MMAction2's ``ResNet``, e.g. ``pretrained=
'torchvision://resnet50'``, the papers' encoder.) Transformer ``i`` is the
``i``-th cardinality of the head's ``cardinalities``: keep the official
order ``(2, 3)``.

Dropped, each checked first:

- ``transformers.{i}.norm_v.*``: built (L1251) but never used in the
  forward (L1285-1286 take the values without a norm), so it has no
  effect and no gradient; :class:`TemporalCrossTransformer` does not
  build it.
- ``transformers.{i}.tuples.{j}``: the frame indices of the tuples,
  ``nn.Parameter(requires_grad=False)`` (L1256-1258). They are rebuilt
  from ``num_frames`` (a non-persistent buffer); the checkpoint's are
  checked to be ``itertools.combinations(range(T), s)`` in order.
- ``transformers.{i}.pe.pe``: the positional table (L1213-1219), rebuilt
  from ``pe_scale``/``pe_length``; the checkpoint's is checked to be the
  official sinusoid with scale 0.1 (to 1e-6: CPUs' ``sin`` differ in the
  last bit).
"""
import re
from collections import OrderedDict
from itertools import combinations
from typing import Dict, List, Mapping, Tuple

import torch

from .layers.temporal_cross_transformer import sinusoid_table

from .official_keys_common import refuse_unknown_keys, torchvision_resnet_key

__all__ = ['map_trx_state_dict']

_HEAD = re.compile(
    r'transformers\.(\d+)\.(k_linear|v_linear|norm_k)\.(weight|bias)')
_TUPLE = re.compile(r'transformers\.(\d+)\.tuples\.(\d+)')
_PE = re.compile(r'transformers\.(\d+)\.pe\.pe')
_NORM_V = re.compile(r'transformers\.(\d+)\.norm_v\.(weight|bias)')


def _check_tuples(tuples: Dict[int, Dict[int, torch.Tensor]]) -> None:
    for layer, rows in tuples.items():
        got = [tuple(rows[j].tolist()) for j in sorted(rows)]
        size = len(got[0])
        num_frames = got[-1][-1] + 1
        want = list(combinations(range(num_frames), size))
        if got != want or sorted(rows) != list(range(len(rows))):
            raise ValueError(
                f'transformers.{layer}.tuples.* of the checkpoint are not '
                f'the official tuples (all {size}-frame combinations of '
                f'range({num_frames}) in order); the TRX head rebuilds '
                'them from num_frames and cannot load these.')


def map_trx_state_dict(
        state_dict: Mapping[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official ``CNN_TRX`` state dict (wrappers stripped).

    Args:
        state_dict (Mapping[str, Tensor]): ``CNN_TRX.state_dict()`` keys.

    Returns:
        tuple: The renamed state dict (``backbone.*`` and ``cls_head.*``
        keys of a ``FewShotRecognizer`` with a ``TRXHead``) and the
        official keys dropped on purpose (see the module docstring).

    Raises:
        ValueError: Keys the mapping does not know (listed), tuples other
            than the official ones, or a positional table other than the
            official sinusoid.
    """
    converted, dropped, unknown = OrderedDict(), [], []
    tuples: Dict[int, Dict[int, torch.Tensor]] = {}
    for key, value in state_dict.items():
        if _HEAD.fullmatch(key):
            converted['cls_head.' + key] = value
        elif key.startswith('backbone.') and torchvision_resnet_key(
                key[len('backbone.'):]):
            new = torchvision_resnet_key(key[len('backbone.'):])
            converted['backbone.' + new] = value
        elif _TUPLE.fullmatch(key):
            layer, index = map(int, _TUPLE.fullmatch(key).groups())
            tuples.setdefault(layer, {})[index] = value
            dropped.append(key)
        elif _PE.fullmatch(key):
            table = value.reshape(value.shape[-2:]).float()
            official = sinusoid_table(*table.shape, scale=0.1)
            if not torch.allclose(table, official, rtol=0, atol=1e-6):
                raise ValueError(
                    f'{key} is not the official TRX positional table '
                    '(sinusoid x 0.1); the TRX head rebuilds it from '
                    'pe_scale and cannot load it.')
            dropped.append(key)
        elif _NORM_V.fullmatch(key):
            dropped.append(key)
        else:
            unknown.append(key)
    refuse_unknown_keys(unknown, 'trx', 'TRX', 'CNN_TRX')
    _check_tuples(tuples)
    return converted, dropped
