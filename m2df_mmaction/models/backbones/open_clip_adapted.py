# Copyright (c) m2df_mmaction contributors.
"""A frozen open_clip visual tower that hosts trainable adapters."""
import copy
from typing import FrozenSet, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from open_clip.transformer import VisionTransformer
from torch import Tensor

from ..adapters import BaseAdapter
from .frame_features import FrameFeatureRequest, FrameFeatures
from .open_clip_visual import OpenCLIPVisual

__all__ = ['OpenCLIPAdapted']


@MODELS.register_module()
class OpenCLIPAdapted(OpenCLIPVisual):
    """A frozen CLIP ViT with adapters in its blocks (D2ST-Adapter & co).

    The whole open_clip tower is frozen (``freeze_all``) except the
    parameters named in ``trainable``; the adapters (``adapter``, one per
    chosen block or per chosen linear layer of each block) and the optional
    temporal embedding are the trainable parts. Adapters attach by forward
    hooks (:mod:`m2df_mmaction.models.adapters`), so the tower's modules
    and keys are open_clip's own and a full CLIP checkpoint loads strictly.
    Gradients still flow *through* the frozen blocks to the adapters of
    earlier blocks; the optimizer sees only the trainable parameters
    (``requires_grad``).

    D2ST-Adapter's ViT (qizhongtan/D2ST-Adapter ``models/base/adapter.py``
    ``ViT_CLIP``; trainable names in ``runs/train_net_few_shot.py``: names
    holding ``class_embedding``, ``temporal_embedding``, ``Adapter``,
    ``ln_post``, ``classification_layer``):
    ``adapter=dict(type='D2STAdapter')``, ``temporal_embedding=True``,
    ``trainable=('class_embedding', 'ln_post')``, ``project=False``.

    Args:
        arch (str): open_clip ViT architecture.
        num_frames (int): Frames per video ``T`` of the flat frame batches
            ``[B*T, 3, H, W]`` it receives (the pipeline's ``num_clips``):
            video adapters and the temporal embedding group frames by it.
        adapter (dict, optional): Adapter config (a registered
            :class:`BaseAdapter`); ``embed_dims`` and ``num_frames`` are
            filled in. None: no adapters.
        adapter_layers (Sequence[int], optional): Blocks that get adapters
            (negative counts from the end). Defaults to every block.
        adapter_targets (Sequence[str]): For ``attach_to='linear'``
            adapters (LoRA): the ``nn.Linear`` modules of each chosen block,
            by name. Defaults to ``('mlp.c_fc', 'mlp.c_proj')``.
        temporal_embedding (bool): Add a learned ``[T, width]`` embedding
            (zeros at first) to every token of frame ``t`` before
            ``ln_pre``. Defaults to False.
        trainable (Sequence[str]): Names of tower parameters (or module
            prefixes) that stay trainable, relative to the tower, e.g.
            ``'class_embedding'``, ``'ln_post'``. Defaults to ().
        project (bool): Return the projected embedding (open_clip's
            output, ``D`` channels). False: the class token after
            ``ln_post``, before ``proj`` (``width`` channels; D2ST's
            features). Defaults to True.
        save_trainable_only (bool): Leave the frozen tower parameters out
            of ``state_dict()`` (so out of every checkpoint: a few MB
            instead of CLIP's hundreds). Loading such a state dict reads
            the frozen weights from ``pretrained`` first (so ``pretrained``
            must name the CLIP the adapters were trained on). Defaults to
            False.
        **kwargs: :class:`OpenCLIPVisual` options (``pretrained``,
            ``with_cp``, ``quick_gelu``, ...); ``freeze_all`` and
            ``frozen_stages`` are decided here.
    """

    def __init__(self,
                 arch: str,
                 num_frames: int,
                 adapter: Optional[dict] = None,
                 adapter_layers: Optional[Sequence[int]] = None,
                 adapter_targets: Sequence[str] = ('mlp.c_fc', 'mlp.c_proj'),
                 temporal_embedding: bool = False,
                 trainable: Sequence[str] = (),
                 project: bool = True,
                 save_trainable_only: bool = False,
                 **kwargs) -> None:
        for key in ('freeze_all', 'frozen_stages'):
            if key in kwargs:
                raise ValueError(
                    f'OpenCLIPAdapted freezes the whole tower; {key} is not '
                    'an option (name what stays trainable in `trainable`).')
        super().__init__(arch, freeze_all=True, **kwargs)
        if not isinstance(self.visual, VisionTransformer):
            raise ValueError(
                f'OpenCLIPAdapted adapts ViT towers; {arch} is a '
                f'{type(self.visual).__name__}.')
        self.num_frames = num_frames
        self.project = project
        self.trainable = tuple(trainable)
        width = self.visual.transformer.width
        if not project:
            self.embed_dims = width
        names = dict(self.visual.named_parameters())
        for name in self.trainable:
            if not any(n == name or n.startswith(name + '.') for n in names):
                raise ValueError(
                    f'OpenCLIPAdapted: trainable={name!r} names no parameter '
                    f'of the {arch} tower (e.g. class_embedding, ln_post, '
                    'transformer.resblocks.0.ln_1).')
        self.adapters = nn.ModuleList()
        self.adapter_sites: List[str] = []
        if adapter is not None:
            self._attach(adapter, adapter_layers, adapter_targets)
        if temporal_embedding:
            self.temporal_embedding = nn.Parameter(
                torch.zeros(1, num_frames, width))
            self.visual.ln_pre.register_forward_pre_hook(
                self._add_temporal_embedding)
        else:
            self.temporal_embedding = None
        self._freeze()
        self.save_trainable_only = save_trainable_only
        #: Tower parameters (``visual.*`` names) that never train.
        self.frozen_keys = [
            f'visual.{n}' for n, p in self.visual.named_parameters()
            if not p.requires_grad
        ]
        if save_trainable_only:
            self._register_state_dict_hook(drop_frozen)
        # before the activation check, which reads the state dict too
        handle = self._register_load_state_dict_pre_hook(
            _fill_frozen, with_module=True)
        self._load_state_dict_pre_hooks.move_to_end(handle.id, last=False)

    def _attach(self, adapter: dict, layers: Optional[Sequence[int]],
                targets: Sequence[str]) -> None:
        """Build one adapter per site and hook it there."""
        blocks = self.visual.transformer.resblocks
        chosen = range(len(blocks)) if layers is None else layers
        indices = []
        for i in chosen:
            if not -len(blocks) <= i < len(blocks):
                raise ValueError(
                    f'OpenCLIPAdapted: adapter_layers has {i}; the {self.arch}'
                    f' tower has blocks 0..{len(blocks) - 1}.')
            indices.append(i % len(blocks))
        kind = getattr(MODELS.get(adapter['type']), 'attach_to', None)
        if kind not in ('block', 'linear'):
            raise ValueError(
                f'OpenCLIPAdapted: adapter type {adapter["type"]!r} is not an '
                f'adapter of ViT blocks or linear layers (attach_to={kind!r}; '
                'e.g. D2STAdapter, BottleneckAdapter, LoRA); for a ResNet '
                "(attach_to='stage') use ResNetAdapted.")
        for i in sorted(set(indices)):
            cfg = copy.deepcopy(adapter)
            cfg.setdefault('num_frames', self.num_frames)
            if kind == 'block':
                cfg.setdefault('embed_dims', self.visual.transformer.width)
                self._hook(cfg, blocks[i], f'transformer.resblocks.{i}')
                continue
            for target in targets:
                module = dict(blocks[i].named_modules()).get(target)
                if not isinstance(module, nn.Linear):
                    raise ValueError(
                        f'OpenCLIPAdapted: {cfg["type"]} attaches to linear '
                        f'layers and block {i} has no nn.Linear {target!r} '
                        '(adapter_targets).')
                site = dict(cfg, embed_dims=module.out_features,
                            in_features=module.in_features)
                self._hook(site, module, f'transformer.resblocks.{i}.{target}')

    def _hook(self, cfg: dict, module: nn.Module, site: str) -> None:
        adapter = MODELS.build(cfg)
        if not isinstance(adapter, BaseAdapter):
            raise TypeError(f'{cfg["type"]} is not an adapter (BaseAdapter).')
        module.register_forward_hook(adapter.hook)
        self.adapters.append(adapter)
        self.adapter_sites.append(site)

    def _add_temporal_embedding(self, module: nn.Module,
                                inputs: Tuple[Tensor]) -> Tuple[Tensor]:
        """``ln_pre`` pre-hook: ``x[b*T + t] += temporal_embedding[t]``."""
        x = inputs[0]
        t = self.num_frames
        if x.shape[0] % t:
            raise ValueError(
                f'OpenCLIPAdapted: {x.shape[0]} frames do not split into '
                f'videos of num_frames={t}.')
        x = (x.unflatten(0, (-1, t)) +
             self.temporal_embedding.to(x.dtype).unsqueeze(2)).flatten(0, 1)
        return (x, )

    def _freeze(self) -> None:
        """Freeze the tower, then let ``trainable`` learn again."""
        super()._freeze()
        for name, param in self.visual.named_parameters():
            if any(name == t or name.startswith(t + '.')
                   for t in getattr(self, 'trainable', ())):
                param.requires_grad = True

    def forward(self, x: Tensor) -> Tensor:
        """Embed frames.

        Args:
            x (Tensor): ``[B*T, 3, H, W]`` CLIP-normalised frames, ``T``
                consecutive frames per video.

        Returns:
            Tensor: ``[B*T, D]`` (``project``) or ``[B*T, width]``.
        """
        v = self.visual
        if self.with_cp:
            v.set_grad_checkpointing(torch.is_grad_enabled())
        # open_clip's forward always projects: its three steps, with the
        # projection optional
        pooled, _ = v._pool(v.transformer(v._embeds(x)))
        if self.project and v.proj is not None:
            pooled = pooled @ v.proj
        return pooled

    @property
    def frame_feature_kinds(self) -> FrozenSet[str]:
        """Pooled frames only: the contract's spatial maps and tokens are
        read by a tower pass that knows nothing of ``project``."""
        return frozenset({'frames'})

    def forward_frame_features(
            self, x: Tensor, request: FrameFeatureRequest) -> FrameFeatures:
        """Pooled frames (:meth:`forward`)."""
        return FrameFeatures(pooled=self(x), spatial=None, tokens=None)


def drop_frozen(module: nn.Module, state_dict: dict, prefix: str,
                local_metadata: dict) -> None:
    """``state_dict`` hook of the adapter encoders (``save_trainable_only``):
    leave the parameters named in ``module.frozen_keys`` out."""
    for key in module.frozen_keys:
        state_dict.pop(prefix + key, None)


def _fill_frozen(module: OpenCLIPAdapted, state_dict: dict, prefix: str,
                 *args) -> None:
    """Load pre-hook: a state dict without any frozen tower parameter (saved
    with ``save_trainable_only``) gets them from the pretrained CLIP."""
    keys = [prefix + k for k in module.frozen_keys]
    if not keys or any(k in state_dict for k in keys):
        return
    if not any(k.startswith(prefix) for k in state_dict):
        return  # nothing of this encoder: not its state dict
    weights = module._clip_weights
    if weights is None:
        raise ValueError(
            f'The state dict of {prefix.rstrip(".") or "the encoder"} holds '
            f'the trainable parts only (save_trainable_only) and the '
            f'{module.arch} tower has no pretrained weights to take the '
            f'frozen ones from: set its `pretrained` to the CLIP weights the '
            'adapters were trained on (e.g. --cfg-options '
            'model.backbone.pretrained=PATH).')
    weights.load()  # once; frozen parameters never change after it
    own = {f'visual.{n}': t for n, t in module.visual.state_dict().items()}
    for key, full in zip(module.frozen_keys, keys):
        state_dict[full] = own[key].detach().clone()
