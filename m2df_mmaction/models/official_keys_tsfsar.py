# Copyright (c) m2df_mmaction contributors.
"""Weights of the official TS-FSAR model, in this project's names.

The official ``TS_FSAR`` (yaozhang0417/TS-FSAR ``1a91053``,
``trainers/ts_fsar.py``, ``trainers/model.py``) holds, under ``model.``
(its ``LSN``), copies of a HuggingFace ``CLIPVisionModelWithProjection``'s
modules (HuggingFace key names), the side network, GLAC's adapter and
heads, and ``ts_dcm.generator``. Released checkpoints are its
``state_dict()``. A ``FewShotRecognizer`` with an :class:`OpenCLIPSide`
encoder (open_clip keeps OpenAI's names) and a :class:`TSFSARHead`:

official key (after ``model.``, except the last) -> this project
(``V.`` = ``backbone.visual.``, ``R.`` = ``V.transformer.resblocks.``,
``S.`` = ``backbone.side.``, ``H.`` = ``cls_head.``):

- ``embeddings.patch_embedding.weight`` -> ``V.conv1.weight``
- ``embeddings.class_embedding`` -> ``V.class_embedding``
- ``embeddings.position_embedding.weight`` -> ``V.positional_embedding``
- ``pre_layernorm.*`` / ``post_layernorm.*`` -> ``V.ln_pre.*`` /
  ``V.ln_post.*``
- ``layers.i.self_attn.{q,k,v}_proj.*`` -> ``R.i.attn.in_proj_*`` (q, k, v
  stacked)
- ``layers.i.self_attn.out_proj.*`` -> ``R.i.attn.out_proj.*``
- ``layers.i.layer_norm{1,2}.*`` -> ``R.i.ln_{1,2}.*``
- ``layers.i.mlp.fc{1,2}.*`` -> ``R.i.mlp.c_{fc,proj}.*``
- ``projection.weight`` ``[D, W]`` -> ``V.proj`` ``[W, D]`` (transposed)
- ``side_LN.i.*`` / ``side_downsample.i.weight`` -> ``S.norms.i.*`` /
  ``S.downsamples.i.weight``
- ``side_transformer.i.{norm1,norm2}.*`` -> ``S.blocks.i.{norm1,norm2}.*``
- ``side_transformer.i.attn.{q,k,v}_linear.*`` -> ``S.blocks.i.attn.{q,k,v}.*``
- ``side_transformer.i.attn.proj.*`` -> ``S.blocks.i.attn.proj.*``
- ``side_transformer.i.mlp.fc{1,2}.*`` -> ``S.blocks.i.mlp.fc{1,2}.*``
- ``side_gate_params.i`` ``[1]`` -> ``S.gates[i]`` (stacked)
- ``Adapter.norm1.*`` -> ``H.clip_adapter.norm.*``
- ``Adapter.attn.{q,k,v}_linear.*`` / ``proj.*`` ->
  ``H.clip_adapter.attn.{q,k,v}.*`` / ``proj.*``
- ``up_ln.*``, ``up_linear.weight`` -> ``H.up_ln.*``, ``H.up_linear.weight``
- ``Linear.weight`` -> ``H.classifier.weight``
- ``ts_dcm.generator.weight`` (no ``model.``) -> ``H.generator.weight``

``model.embeddings.position_ids`` (a buffer some transformers versions
save) is dropped. The ``REMOVE_PROJ: false`` variant (``side_last_LN``,
``side_proj_downsample``, ``side_post_LN``, ``side_reduce``: in no released
config, and its forward cannot run on a ViT-B/16, whose projection changes
the width) is refused.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch

from .official_keys_common import refuse_unknown_keys

__all__ = ['map_tsfsar_state_dict']

_RENAMES = [
    (r'model\.embeddings\.patch_embedding\.weight$', 'visual.conv1.weight'),
    (r'model\.embeddings\.class_embedding$', 'visual.class_embedding'),
    (r'model\.embeddings\.position_embedding\.weight$',
     'visual.positional_embedding'),
    (r'model\.pre_layernorm\.(weight|bias)$', r'visual.ln_pre.\1'),
    (r'model\.post_layernorm\.(weight|bias)$', r'visual.ln_post.\1'),
    (r'model\.projection\.weight$', 'visual.proj'),
    (r'model\.layers\.(\d+)\.self_attn\.out_proj\.(weight|bias)$',
     r'visual.transformer.resblocks.\1.attn.out_proj.\2'),
    (r'model\.layers\.(\d+)\.layer_norm(\d)\.(weight|bias)$',
     r'visual.transformer.resblocks.\1.ln_\2.\3'),
    (r'model\.layers\.(\d+)\.mlp\.fc1\.(weight|bias)$',
     r'visual.transformer.resblocks.\1.mlp.c_fc.\2'),
    (r'model\.layers\.(\d+)\.mlp\.fc2\.(weight|bias)$',
     r'visual.transformer.resblocks.\1.mlp.c_proj.\2'),
    (r'model\.side_LN\.(\d+)\.(weight|bias)$', r'side.norms.\1.\2'),
    (r'model\.side_downsample\.(\d+)\.weight$', r'side.downsamples.\1.weight'),
    (r'model\.side_transformer\.(\d+)\.(norm1|norm2)\.(weight|bias)$',
     r'side.blocks.\1.\2.\3'),
    (r'model\.side_transformer\.(\d+)\.attn\.([qkv])_linear\.(weight|bias)$',
     r'side.blocks.\1.attn.\2.\3'),
    (r'model\.side_transformer\.(\d+)\.attn\.proj\.(weight|bias)$',
     r'side.blocks.\1.attn.proj.\2'),
    (r'model\.side_transformer\.(\d+)\.mlp\.(fc1|fc2)\.(weight|bias)$',
     r'side.blocks.\1.mlp.\2.\3'),
]
_HEAD = [
    (r'model\.Adapter\.norm1\.(weight|bias)$', r'clip_adapter.norm.\1'),
    (r'model\.Adapter\.attn\.([qkv])_linear\.(weight|bias)$',
     r'clip_adapter.attn.\1.\2'),
    (r'model\.Adapter\.attn\.proj\.(weight|bias)$',
     r'clip_adapter.attn.proj.\1'),
    (r'model\.up_ln\.(weight|bias)$', r'up_ln.\1'),
    (r'model\.up_linear\.weight$', 'up_linear.weight'),
    (r'model\.Linear\.weight$', 'classifier.weight'),
    (r'ts_dcm\.generator\.weight$', 'generator.weight'),
]
_QKV = re.compile(r'model\.layers\.(\d+)\.self_attn\.([qkv])_proj\.'
                  r'(weight|bias)$')
_GATE = re.compile(r'model\.side_gate_params\.(\d+)$')
_DROPPED = re.compile(r'model\.embeddings\.position_ids$')
_PROJ_VARIANT = re.compile(r'model\.(side_last_LN|side_proj_downsample|'
                           r'side_post_LN|side_reduce)\.')


def map_tsfsar_state_dict(
    state_dict: Mapping[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename an official TS-FSAR state dict to this project's keys.

    Args:
        state_dict (Mapping[str, Tensor]): ``TS_FSAR.state_dict()`` (a
            ``module.`` prefix is removed).

    Returns:
        tuple: The renamed state dict (``backbone.*``, ``cls_head.*``) and
        the official keys dropped on purpose.

    Raises:
        ValueError: Keys of the ``REMOVE_PROJ: false`` variant, keys no
            mapping knows, or an incomplete q/k/v triple.
    """
    out, dropped, unknown = OrderedDict(), [], []
    qkv: Dict[Tuple[str, str], Dict[str, torch.Tensor]] = {}
    gates: Dict[int, torch.Tensor] = {}
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if _PROJ_VARIANT.match(key):
            raise ValueError(
                f'{key}: this is a TS-FSAR model with LSN.REMOVE_PROJ false, '
                'a variant in no released config; this project implements '
                'REMOVE_PROJ true (every released config).')
        if _DROPPED.match(key):
            dropped.append(key)
            continue
        found = _QKV.match(key)
        if found:
            qkv.setdefault((found.group(1), found.group(3)),
                           {})[found.group(2)] = value
            continue
        found = _GATE.match(key)
        if found:
            gates[int(found.group(1))] = value.reshape(1)
            continue
        new = _rename(key, _RENAMES, 'backbone.') or \
            _rename(key, _HEAD, 'cls_head.')
        if new is None:
            unknown.append(key)
        elif new == 'backbone.visual.proj':
            out[new] = value.t().contiguous()
        else:
            out[new] = value
    for (layer, kind), parts in sorted(qkv.items(),
                                       key=lambda kv: int(kv[0][0])):
        if set(parts) != set('qkv'):
            raise ValueError(f'model.layers.{layer}.self_attn: the checkpoint '
                             f'has {sorted(parts)} of q_proj/k_proj/v_proj '
                             f'{kind}; all three are needed.')
        out[f'backbone.visual.transformer.resblocks.{layer}.attn.in_proj_'
            f'{kind}'] = torch.cat([parts['q'], parts['k'], parts['v']])
    if gates:
        if sorted(gates) != list(range(len(gates))):
            raise ValueError(f'model.side_gate_params: the checkpoint has '
                             f'gates {sorted(gates)}, not 0..{len(gates)-1}.')
        out['backbone.side.gates'] = torch.cat(
            [gates[i] for i in range(len(gates))])
    refuse_unknown_keys(unknown, 'tsfsar', 'TS-FSAR', 'TS_FSAR')
    return out, dropped


def _rename(key: str, table, prefix: str):
    for pattern, repl in table:
        if re.match(pattern, key):
            return prefix + re.sub(pattern, repl, key)
    return None
