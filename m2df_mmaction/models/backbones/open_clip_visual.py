# Copyright (c) m2df_mmaction contributors.
"""The visual tower of an open_clip model as an MMAction2 2D backbone."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch.nn.modules.batchnorm import _BatchNorm

from ..open_clip_utils import build_open_clip_model

__all__ = ['OpenCLIPVisual']

Stage = List[Union[nn.Module, nn.Parameter]]


@MODELS.register_module()
class OpenCLIPVisual(BaseModule):
    """CLIP image encoder of any open_clip architecture.

    Maps frames that the data preprocessor has already normalised with
    CLIP's mean and std to CLIP's projected image embedding. Only the visual
    tower is kept; its state dict keys are open_clip's own (``visual.*``),
    so a full CLIP state dict loads into it with ``strict=False``.

    It works as a plain MMAction2 2D backbone: in a stock ``Recognizer2D``
    it receives ``[N * T, 3, H, W]`` and returns ``[N * T, D]``; pair it
    with ``TSNHead(spatial_type=None, in_channels=D)``, which averages the
    ``T`` frame embeddings and classifies them (the head's default
    ``spatial_type='avg'`` expects a ``[N * T, C, H', W']`` map).

    Stages, counted from the input as OpenMMLab's ``frozen_stages`` does
    (open_clip's ``lock(unlocked_groups)`` counts from the output and
    cannot partially freeze a ResNet, hence our own freezing):

    - ViT: stage 0 is ``conv1`` + class and position embeddings +
      ``ln_pre``; stage ``i`` (1..L) is transformer block ``i - 1``.
    - ModifiedResNet: stage 0 is the 3-conv stem; stages 1..4 are
      ``layer1``..``layer4``.

    The output head (``ln_post`` + ``proj``, or ``attnpool``) is only
    frozen by ``freeze_all``.

    Args:
        arch (str): open_clip architecture, e.g. ``'RN50'``, ``'ViT-B-16'``
            or the tiny ``'TinyCLIP-ViT-32'`` / ``'TinyCLIP-RN-64'``.
        pretrained (str, optional): ``None`` (random init), an open_clip
            tag such as ``'openai'`` (needs internet unless cached) or a
            local checkpoint file (state dict, training checkpoint,
            ``.safetensors`` or OpenAI TorchScript ``.pt``).
            Defaults to None.
        frozen_stages (int): Freeze stages ``0..frozen_stages`` (parameters
            get ``requires_grad=False`` and their modules stay in eval
            mode). -1 freezes nothing. Defaults to -1.
        freeze_all (bool): Freeze the whole tower, head included.
            Defaults to False.
        norm_eval (bool): Keep every BatchNorm layer in eval mode during
            training (only ResNet towers have BatchNorm). Defaults to False.
        quick_gelu (bool, optional): See
            :func:`~m2df_mmaction.models.open_clip_utils.build_open_clip_model`.
            Defaults to None (decided from the weights).
        cache_dir (str, optional): Download cache folder. Defaults to None.
        init_cfg (dict | list[dict], optional): MMEngine init config, only
            applied when ``pretrained`` is None. Defaults to None.

    Example:
        >>> import torch
        >>> from mmaction.registry import MODELS
        >>> import m2df_mmaction  # noqa: F401
        >>> net = MODELS.build(dict(type='OpenCLIPVisual',
        ...                         arch='TinyCLIP-ViT-32'))
        >>> net(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 64])
    """

    def __init__(self,
                 arch: str,
                 pretrained: Optional[str] = None,
                 frozen_stages: int = -1,
                 freeze_all: bool = False,
                 norm_eval: bool = False,
                 quick_gelu: Optional[bool] = None,
                 cache_dir: Optional[str] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch = arch
        self.pretrained = pretrained
        self.frozen_stages = frozen_stages
        self.freeze_all = freeze_all
        self.norm_eval = norm_eval

        clip = build_open_clip_model(
            arch, pretrained, quick_gelu=quick_gelu, cache_dir=cache_dir)
        self.visual = clip.visual
        self.embed_dim = self._embed_dim(clip)
        del clip

        num_stages = len(self._stages()) if frozen_stages >= 0 else 0
        if not -1 <= frozen_stages < max(num_stages, 1):
            raise ValueError(f'frozen_stages must be in [-1, '
                             f'{num_stages - 1}] for {arch}, '
                             f'got {frozen_stages}.')
        self._freeze()

    @staticmethod
    def _embed_dim(clip: nn.Module) -> int:
        """CLIP's joint embedding size ``D``."""
        output_dim = getattr(clip.visual, 'output_dim', None)
        if output_dim is None:  # e.g. timm towers: ask the text side
            text = getattr(clip, 'text', clip)
            output_dim = getattr(text, 'output_dim', None)
            if output_dim is None:
                output_dim = text.text_projection.shape[-1]
        return int(output_dim)

    def _stages(self) -> List[Stage]:
        """The tower's stages, from the input on."""
        v = self.visual
        if isinstance(v, VisionTransformer):
            stem = [
                v.conv1, v.class_embedding, v.positional_embedding, v.ln_pre
            ]
            return [[m for m in stem if m is not None],
                    *[[blk] for blk in v.transformer.resblocks]]
        if isinstance(v, ModifiedResNet):
            stem = [v.conv1, v.bn1, v.conv2, v.bn2, v.conv3, v.bn3]
            return [stem, [v.layer1], [v.layer2], [v.layer3], [v.layer4]]
        raise NotImplementedError(
            f'frozen_stages is not supported for {type(v).__name__} towers '
            f'({self.arch}); use freeze_all instead.')

    def _frozen_parts(self) -> Stage:
        if self.freeze_all:
            return [self.visual]
        if self.frozen_stages < 0:
            return []
        stages = self._stages()[:self.frozen_stages + 1]
        return [part for stage in stages for part in stage]

    def _freeze(self) -> None:
        """Stop gradients of the frozen parts and put them in eval mode."""
        for part in self._frozen_parts():
            if isinstance(part, nn.Parameter):
                part.requires_grad = False
            else:
                part.eval()
                for param in part.parameters():
                    param.requires_grad = False

    def init_weights(self) -> None:
        """Keep loaded weights; apply ``init_cfg`` only to a random model.

        open_clip initialises its modules when they are built, so there is
        nothing to do without ``init_cfg``.
        """
        if self.pretrained is not None:
            MMLogger.get_current_instance().info(
                f'OpenCLIPVisual: keeping the weights loaded from '
                f'{self.pretrained!r}.')
            self._is_init = True
            return
        super().init_weights()

    def train(self, mode: bool = True) -> 'OpenCLIPVisual':
        """Set train mode, keeping frozen parts and BatchNorm (if
        ``norm_eval``) in eval mode."""
        super().train(mode)
        if mode:
            self._freeze()
            if self.norm_eval:
                for m in self.modules():
                    if isinstance(m, _BatchNorm):
                        m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed images.

        Args:
            x (Tensor): CLIP-normalised images ``[N, 3, H, W]``, where H and
                W equal the architecture's ``image_size``.

        Returns:
            Tensor: Projected image embeddings ``[N, D]`` (not normalised),
            ``D = embed_dim``.
        """
        return self.visual(x)
