# Copyright (c) m2df_mmaction contributors.
"""Weights of the official CLIP-M2DF and CLIP-FSAR code, in this project's
names.

The official heads (``MDMF_CLIPFSAR`` of cofly2014/CLIP-MDMF and
``CNN_OTAM_CLIPFSAR`` of alibaba-mmai-research/CLIP-FSAR) hold the CLIP
visual tower as ``backbone`` and their own modules under other names. The
mapping, applied after removing wrapper prefixes (``module.`` of
DataParallel/DDP, ``head.`` of CLIP-FSAR's video model, ``backbone.module.``
of M2DF's distributed backbone):

================================  ============================================
official key                      this project (``FewShotRecognizer``)
================================  ============================================
``backbone.*``                    ``backbone.visual.*`` (open_clip = OpenAI)
M2DF ``context2.*``               ``cls_head.fusions.local.*`` (local view)
M2DF ``context_local.*``          ``cls_head.fusions.global.*`` (global view)
FSAR ``context2.*``               ``cls_head.transformer.*``
``…layers.i.0.norm.*``            ``….attns.i.norm.*``
``…layers.i.0.fn.to_{q,k,v}.*``   ``….attns.i.to_{q,k,v}.*``
``…layers.i.0.fn.to_out.0.*``     ``….attns.i.to_out.0.*``
``…layers.i.1.net.{0,3}.*``       ``….ffns.i.{0,3}.*``
``context_conv1.*``               ``cls_head.contexts.local.convs.0.*``
``context_conv2.*``               ``cls_head.contexts.local.convs.1.*``
``tcn.network.i.convj.bias``      ``cls_head.contexts.global.blocks.i.convj.*``
``tcn.network.i.convj.weight_g``  ``…convj.parametrizations.weight.original0``
``tcn.network.i.convj.weight_v``  ``…convj.parametrizations.weight.original1``
``scale``                         ``cls_head.loss_video_text.scale``
================================  ============================================

Dropped: M2DF's ``context_conv11``/``context_conv22`` (built but never used
in its forward) and ``tcn.network.i.net.*`` (the same TCN convolutions
registered a second time). The text tower is not in the official
checkpoints (its features are precomputed constants); this project's
frozen ``text_encoder`` comes from the CLIP weights of the config.
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Tuple

import torch

from .official_keys_common import refuse_unknown_keys, strip_wrappers

__all__ = ['OFFICIAL_METHODS', 'convert_official_state_dict']

OFFICIAL_METHODS = ('m2df', 'clip_fsar', 'trx', 'hyrsm', 'molo', 'd2st',
                    'tsfsar')

_TRANSFORMER = (
    (r'layers\.(\d+)\.0\.norm\.', r'attns.\1.norm.'),
    (r'layers\.(\d+)\.0\.fn\.to_(q|k|v)\.', r'attns.\1.to_\2.'),
    (r'layers\.(\d+)\.0\.fn\.to_out\.0\.', r'attns.\1.to_out.0.'),
    (r'layers\.(\d+)\.1\.net\.(0|3)\.', r'ffns.\1.\2.'),
)
_WEIGHT_NORM = {'weight_g': 'parametrizations.weight.original0',
                'weight_v': 'parametrizations.weight.original1'}
_TRANSFORMERS = {
    'm2df': {'context2.': 'cls_head.fusions.local.',
             'context_local.': 'cls_head.fusions.global.'},
    'clip_fsar': {'context2.': 'cls_head.transformer.'},
}
_DROPPED = {
    'm2df': (r'context_conv(11|22)\.', r'tcn\.network\.\d+\.net\.'),
    'clip_fsar': (),
}


def _map_key(key: str, method: str) -> str:
    """This project's name of one official key (``''`` if unknown)."""
    if key.startswith('backbone.'):
        return 'backbone.visual.' + key[len('backbone.'):]
    if key == 'scale':
        return 'cls_head.loss_video_text.scale'
    for old, new in _TRANSFORMERS[method].items():
        if key.startswith(old):
            rest = key[len(old):]
            for pattern, repl in _TRANSFORMER:
                if re.match(pattern, rest):
                    return new + re.sub(pattern, repl, rest, count=1)
            return ''
    if method == 'm2df':
        match = re.fullmatch(r'context_conv([12])\.(weight|bias)', key)
        if match:
            layer = int(match.group(1)) - 1
            return f'cls_head.contexts.local.convs.{layer}.{match.group(2)}'
        match = re.fullmatch(
            r'tcn\.network\.(\d+)\.(conv[12])\.(bias|weight_g|weight_v)', key)
        if match:
            block, conv, name = match.groups()
            return (f'cls_head.contexts.global.blocks.{block}.{conv}.'
                    f'{_WEIGHT_NORM.get(name, name)}')
    return ''


def convert_official_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        method: str) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official state dict to this project's keys.

    Args:
        state_dict (Mapping[str, Tensor]): The official model's state dict
            (``model.state_dict()``, or CLIP-FSAR's ``model_state``).
        method (str): ``'m2df'`` (CLIP-MDMF's ``MDMF_CLIPFSAR``),
            ``'clip_fsar'`` (``CNN_OTAM_CLIPFSAR``), ``'trx'``, ``'hyrsm'``
            (HyRSM and HyRSM++), ``'molo'``, ``'d2st'`` (D2ST-Adapter's
            ``ViT_CLIP``) or ``'tsfsar'`` (``TS_FSAR``).

    Returns:
        tuple: The renamed state dict (keys of a ``FewShotRecognizer``:
        ``backbone.visual.*`` and ``cls_head.*``) and the official keys
        dropped on purpose (see the module docstring).

    Raises:
        ValueError: An unknown method, or keys the mapping does not know
            (listed).
    """
    if method not in OFFICIAL_METHODS:
        raise ValueError(f'method must be one of {OFFICIAL_METHODS}, got '
                         f'{method!r}')
    if method == 'trx':  # CNN_TRX: official_keys_trx.py
        from .official_keys_trx import map_trx_state_dict
        return map_trx_state_dict(strip_wrappers(state_dict))
    if method == 'hyrsm':  # HyRSM and HyRSM++: official_keys_hyrsm.py
        from .official_keys_hyrsm import map_hyrsm_state_dict
        return map_hyrsm_state_dict(strip_wrappers(state_dict))
    if method == 'molo':  # its own table: official_keys_molo.py
        from .official_keys_molo import map_molo_state_dict
        return map_molo_state_dict(strip_wrappers(state_dict))
    if method == 'tsfsar':  # TS_FSAR, HuggingFace keys: official_keys_tsfsar
        from .official_keys_tsfsar import map_tsfsar_state_dict
        return map_tsfsar_state_dict(state_dict)
    if method == 'd2st':  # D2ST-Adapter's ViT_CLIP: official_keys_d2st.py
        from .official_keys_d2st import map_d2st_state_dict
        return map_d2st_state_dict(state_dict)
    converted, dropped, unknown = OrderedDict(), [], []
    for key, value in strip_wrappers(state_dict).items():
        if any(re.match(p, key) for p in _DROPPED[method]):
            dropped.append(key)
            continue
        new = _map_key(key, method)
        if not new:
            unknown.append(key)
            continue
        if key == 'scale' and value.shape == (1, ):
            # CLIP-FSAR's ``nn.Parameter(torch.FloatTensor(1))``, shape
            # [1]; VideoTextLoss keeps it 0-d
            value = value.reshape(())
        converted[new] = value
    refuse_unknown_keys(unknown, method, method)
    return converted, dropped
