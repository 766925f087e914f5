# Copyright (c) m2df_mmaction contributors.
"""What the official-checkpoint key mappings share: wrapper prefixes, the
torchvision backbone of the Alibaba heads' checkpoints in MMAction2 names,
and the message for keys no mapping knows.


TRX, HyRSM, HyRSM++ and MoLo (``models/base/few_shot.py`` of
alibaba-mmai-research/MoLo, HyRSM, HyRSMPlusPlus) keep a torchvision ResNet
as ``nn.Sequential(*list(resnet.children())[:-1])`` (MoLo: ``[:-2]``), so
its keys are numbered children: 0 ``conv1``, 1 ``bn1``, 4..7
``layer1..4``. MMAction2's ``ResNet`` names the same tensors
``conv1.conv``, ``conv1.bn``, ``layerI.J.convK.{conv,bn}``, as its
``_load_torchvision_checkpoint`` maps torchvision's own names.
"""
import re
from typing import Dict, Mapping, Optional, Sequence

import torch

__all__ = ['strip_wrappers', 'torchvision_resnet_key', 'refuse_unknown_keys']


def strip_wrappers(state_dict: Mapping[str, torch.Tensor]) -> Dict:
    """The keys without the ``module.`` (DDP) and ``head.`` prefixes of
    the official training wrappers (and ``backbone.module.``)."""
    out = {}
    for key, value in state_dict.items():
        for prefix in ('module.', 'head.'):
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key.replace('backbone.module.', 'backbone.', 1)] = value
    return out


def refuse_unknown_keys(unknown: Sequence[str],
                        model: str,
                        code: str,
                        official_class: Optional[str] = None) -> None:
    """Raise, listing (up to 8) keys no mapping knows, if any.

    Args:
        unknown (Sequence[str]): The keys.
        model (str): Which official model, e.g. ``'trx'``.
        code (str): Whose code wrote such checkpoints, e.g. ``'TRX'``.
        official_class (str, optional): The official class, named too.

    Raises:
        ValueError: ``unknown`` is not empty.
    """
    if not unknown:
        return
    listed = ', '.join(unknown[:8])
    more = f' (+{len(unknown) - 8} more)' if len(unknown) > 8 else ''
    named = f' ({official_class})' if official_class else ''
    raise ValueError(
        f'{len(unknown)} keys of the checkpoint are not keys of the '
        f'official {model} model{named}: {listed}{more}. Is it a checkpoint '
        f'of the official {code} code?')


# torchvision ResNet children: conv1, bn1, relu, maxpool, layer1..4
_STEM = {'0': 'conv1.conv', '1': 'conv1.bn'}
_STAGES = {'4': 'layer1', '5': 'layer2', '6': 'layer3', '7': 'layer4'}
_BLOCK = re.compile(
    r'(\d+)\.(?:(conv|bn)(\d)|downsample\.([01]))\.(.+)')


def torchvision_resnet_key(key: str) -> str:
    """MMAction2 ``ResNet``'s name of a key of ``nn.Sequential(*list(
    torchvision_resnet.children())[:-1])`` (``''`` if it is not one).

    Args:
        key (str): e.g. ``'5.0.downsample.1.running_mean'``.

    Returns:
        str: e.g. ``'layer2.0.downsample.bn.running_mean'``.
    """
    child, _, rest = key.partition('.')
    if child in _STEM:
        return f'{_STEM[child]}.{rest}'
    match = _BLOCK.fullmatch(rest) if child in _STAGES else None
    if match is None:
        return ''
    block, kind, index, down, name = match.groups()
    if down is not None:
        inner = 'downsample.' + ('conv' if down == '0' else 'bn')
    else:
        inner = f'conv{index}.' + ('conv' if kind == 'conv' else 'bn')
    return f'{_STAGES[child]}.{block}.{inner}.{name}'
