# Copyright (c) m2df_mmaction contributors.
"""A frozen MMAction2 ResNet that hosts trainable adapters after its stages
(D2ST-Adapter's ResNet variant)."""
import copy
from typing import List, Optional, Sequence

import torch.nn as nn
from mmaction.models.backbones import ResNet
from mmaction.registry import MODELS

from ..adapters import BaseAdapter
from .open_clip_adapted import drop_frozen

__all__ = ['ResNetAdapted']


@MODELS.register_module()
class ResNetAdapted(ResNet):
    """MMAction2's ``ResNet``, frozen, with an adapter after chosen stages.

    Every ResNet parameter is frozen; an adapter (``attach_to = 'stage'``,
    e.g. :class:`~m2df_mmaction.models.adapters.D2STResNetAdapter`) is
    attached by a forward hook to the output of each chosen stage
    (``layer1``..``layer4``), so the ResNet's modules, keys and
    ``torchvision://`` loading are MMAction2's own. BatchNorm stays in
    training mode by default (``norm_eval=False``): frozen affine
    parameters, batch statistics, running statistics updated, as the
    official model under ``model.train()``; the running statistics are
    therefore part of what training changes and every checkpoint keeps them.

    D2ST-Adapter's ResNet (qizhongtan/D2ST-Adapter ``models/base/adapter.py``
    ``ResNet``: ``torchvision.models.resnet50(pretrained=True)`` cut into
    five stages with ``ResNet_D2ST_Adapter`` after stages 1-4; trainable
    names ``Adapter`` and ``classification_layer``,
    ``runs/train_net_few_shot.py`` L202): ``depth=50``,
    ``pretrained='torchvision://resnet50'``,
    ``adapter=dict(type='D2STResNetAdapter', scale=0.25)``.

    Input ``[B*T, 3, H, W]`` frames, ``T`` consecutive per video; output
    MMAction2's (the last ``out_indices`` map, by default ``layer4``'s
    ``[B*T, 2048, H/32, W/32]`` for a ResNet-50).

    Args:
        num_frames (int): Frames per video ``T`` of the flat ``[B*T, 3, H,
            W]`` batches (the pipeline's ``num_clips``).
        adapter (dict): Adapter config (a registered :class:`BaseAdapter`
            attaching to stages); ``embed_dims``, ``num_frames`` and
            ``stage`` are filled in.
        adapter_stages (Sequence[int], optional): Stages that get an
            adapter (0 is ``layer1``). Defaults to all.
        save_trainable_only (bool): Leave the frozen ResNet parameters out
            of ``state_dict()`` (BN running statistics stay in: they
            train); loading such a state dict reads the frozen weights from
            ``pretrained`` first. Defaults to False.
        **kwargs: MMAction2 ``ResNet`` options (``depth``, ``pretrained``,
            ``norm_eval``, ``with_cp``, ...); ``frozen_stages`` is decided
            here.
    """

    def __init__(self,
                 num_frames: int,
                 adapter: dict,
                 adapter_stages: Optional[Sequence[int]] = None,
                 save_trainable_only: bool = False,
                 **kwargs) -> None:
        if 'frozen_stages' in kwargs:
            raise ValueError(
                'ResNetAdapted freezes the whole ResNet; frozen_stages is not '
                'an option.')
        kwargs.setdefault('norm_eval', False)
        super().__init__(**kwargs)
        self.num_frames = num_frames
        num = len(self.res_layers)
        chosen = range(num) if adapter_stages is None else adapter_stages
        stages = []
        for i in chosen:
            if not -num <= i < num:
                raise ValueError(
                    f'ResNetAdapted: adapter_stages has {i}; a ResNet-'
                    f'{self.depth} of num_stages={num} has stages 0..'
                    f'{num - 1} (0 is layer1).')
            stages.append(i % num)
        adapter_cls = MODELS.get(adapter['type'])
        kind = getattr(adapter_cls, 'attach_to', None)
        if kind != 'stage':
            raise ValueError(
                f'ResNetAdapted: adapter type {adapter["type"]!r} is not an '
                f"adapter of ResNet stages (attach_to={kind!r}); a ResNet "
                "takes attach_to='stage' adapters, e.g. D2STResNetAdapter.")
        self.adapters = nn.ModuleList()
        self.adapter_sites: List[str] = []
        for i in sorted(set(stages)):
            cfg = copy.deepcopy(adapter)
            cfg.setdefault('embed_dims', self.block.expansion * 64 * 2**i)
            cfg.setdefault('num_frames', num_frames)
            cfg.setdefault('stage', i)
            module = MODELS.build(cfg)
            if not isinstance(module, BaseAdapter):
                raise TypeError(
                    f'{cfg["type"]} is not an adapter (BaseAdapter).')
            getattr(self, self.res_layers[i]).register_forward_hook(
                module.hook)
            self.adapters.append(module)
            self.adapter_sites.append(self.res_layers[i])
        #: ResNet parameters that never train (state-dict names).
        self.frozen_keys = [
            n for n, _ in self.named_parameters()
            if not n.startswith('adapters.')
        ]
        for name, param in self.named_parameters():
            param.requires_grad = name.startswith('adapters.')
        self.save_trainable_only = save_trainable_only
        if save_trainable_only:
            self._register_state_dict_hook(drop_frozen)
        self._register_load_state_dict_pre_hook(_fill_frozen, with_module=True)

    def train(self, mode: bool = True) -> 'ResNetAdapted':
        """MMAction2's ``ResNet.train`` (norm_eval, frozen stages), returning
        the module as ``nn.Module.train`` does (MMAction2's returns None)."""
        super().train(mode)
        return self

    def init_weights(self) -> None:
        """The ResNet's weights (``pretrained``), then the adapters' own
        initialisation (zero ``up``)."""
        super().init_weights()
        for adapter in self.adapters:
            adapter.init_weights()


def _fill_frozen(module: ResNetAdapted, state_dict: dict, prefix: str,
                 *args) -> None:
    """Load pre-hook: a state dict without the frozen parameters (saved
    with ``save_trainable_only``) gets them from ``pretrained``."""
    keys = [prefix + k for k in module.frozen_keys]
    if not any(k.startswith(prefix) for k in state_dict) or \
            any(k in state_dict for k in keys):
        return
    if not isinstance(module.pretrained, str):
        raise ValueError(
            f'The state dict of {prefix.rstrip(".") or "the encoder"} holds '
            'the trainable parts only (save_trainable_only) and the ResNet '
            'has no pretrained weights to take the frozen ones from: set its '
            '`pretrained` to the weights the adapters were trained on (e.g. '
            '--cfg-options model.backbone.pretrained=torchvision://resnet50).')
    ResNet.init_weights(module)  # frozen weights: never changed by training
    own = dict(module.named_parameters())
    for key, full in zip(module.frozen_keys, keys):
        state_dict[full] = own[key].detach().clone()
