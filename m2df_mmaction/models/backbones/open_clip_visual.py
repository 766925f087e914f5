# Copyright (c) m2df_mmaction contributors.
"""The visual tower of an open_clip model as an MMAction2 2D backbone."""
from contextlib import contextmanager
from typing import (Callable, FrozenSet, Iterator, List, Optional, Sequence,
                    Union)

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from ..open_clip_utils import (attach_open_clip_build,
                               build_open_clip_unloaded, load_pretrained_clip)
from .frame_features import FrameFeatureRequest, FrameFeatures
from .open_clip_features import (open_clip_feature_dims,
                                 open_clip_feature_kinds,
                                 open_clip_frame_features,
                                 open_clip_token_layers)

__all__ = ['OpenCLIPVisual']

Stage = List[Union[nn.Module, nn.Parameter]]


@contextmanager
def _running_stats_kept(modules: Sequence[nn.Module]) -> Iterator[None]:
    """Let training-mode BatchNorm layers leave their running statistics
    alone: they still normalise by the batch statistics.

    A checkpointed segment runs its forward twice (once more in the
    backward pass); without this its BatchNorm layers would update their
    running mean and variance twice per step, with the same batch.
    ``momentum = 0`` keeps the running statistics exactly (the update is
    ``(1 - momentum) * running + momentum * batch``) and the saved
    ``num_batches_tracked`` is put back.
    """
    norms = [
        m for m in modules if isinstance(m, _BatchNorm) and m.training
        and m.track_running_stats
    ]
    saved = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, count) in zip(norms, saved):
            m.momentum = momentum
            m.num_batches_tracked.copy_(count)


def _checkpointed(segment: Callable[[torch.Tensor], torch.Tensor],
                  modules: Sequence[nn.Module],
                  x: torch.Tensor) -> torch.Tensor:
    """Run ``segment`` under activation checkpointing.

    Its activations are freed after the forward and recomputed in the
    backward pass; the recomputation does not touch BatchNorm running
    statistics (:func:`_running_stats_kept`), so a step gives the same
    buffers as without checkpointing.

    Args:
        segment (Callable): Maps ``x`` to the segment's output.
        modules (Sequence[nn.Module]): The modules ``segment`` runs (their
            BatchNorm layers are guarded during the recomputation).
        x (Tensor): The segment's input.

    Returns:
        Tensor: ``segment(x)``.
    """
    calls = 0

    def run(inputs: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        if calls == 1:
            return segment(inputs)
        with _running_stats_kept(modules):  # the backward's recomputation
            return segment(inputs)

    return checkpoint(run, x, use_reentrant=False)


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
            ``.safetensors`` or OpenAI TorchScript ``.pt``), loaded by
            :meth:`init_weights` (MMEngine calls it when training starts).
            Defaults to None.
        frozen_stages (int): Freeze stages ``0..frozen_stages`` (parameters
            get ``requires_grad=False`` and their modules stay in eval
            mode). -1 freezes nothing. Defaults to -1.
        freeze_all (bool): Freeze the whole tower, head included.
            Defaults to False.
        norm_eval (bool): Keep every BatchNorm layer in eval mode during
            training (only ResNet towers have BatchNorm). Defaults to False.
        with_cp (bool): Gradient (activation) checkpointing of the trainable
            stages: their activations are recomputed in the backward pass
            instead of kept, trading about one more forward pass for most
            of the tower's activation memory. Same loss and gradients as
            without it. ViT: open_clip's ``set_grad_checkpointing`` (one
            segment per transformer block). ModifiedResNet: open_clip 3.3's
            ``set_grad_checkpointing`` does nothing for it, so this module
            checkpoints the stem and every bottleneck block itself, leaving
            BatchNorm running statistics as without checkpointing. Frozen
            stages keep no activations for the backward, so checkpointing
            changes nothing there (the ResNet path skips them). Only active
            when gradients are enabled. Other towers: their own
            ``set_grad_checkpointing``. Defaults to False.
        quick_gelu (bool, optional): See
            :func:`~m2df_mmaction.models.open_clip_utils.build_open_clip_model`.
            Defaults to None (decided from the weights, without loading
            them). The choice is kept in the state dict (buffer
            ``quick_gelu``), so a rebuild from a checkpoint uses it.
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

    #: State-dict entries that checkpoints saved before they existed lack;
    #: such checkpoints load with the module's own value (no error).
    optional_state_keys = ('quick_gelu', )

    def __init__(self,
                 arch: str,
                 pretrained: Optional[str] = None,
                 frozen_stages: int = -1,
                 freeze_all: bool = False,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 quick_gelu: Optional[bool] = None,
                 cache_dir: Optional[str] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch = arch
        self.pretrained = pretrained
        self.frozen_stages = frozen_stages
        self.freeze_all = freeze_all
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        # the architecture only: the weights load in init_weights()
        build = build_open_clip_unloaded(
            arch, pretrained, quick_gelu=quick_gelu, cache_dir=cache_dir)
        self.visual = build.clip.visual
        self.embed_dims = self._embed_dims(build.clip)
        attach_open_clip_build(self, build)  # + the `quick_gelu` buffer
        del build

        num_stages = len(self._stages()) if frozen_stages >= 0 else 0
        if not -1 <= frozen_stages < max(num_stages, 1):
            raise ValueError(f'frozen_stages must be in [-1, '
                             f'{num_stages - 1}] for {arch}, '
                             f'got {frozen_stages}.')
        if with_cp and not isinstance(self.visual, ModifiedResNet) and \
                not hasattr(self.visual, 'set_grad_checkpointing'):
            raise NotImplementedError(
                f'with_cp: {type(self.visual).__name__} towers ({arch}) '
                'have no set_grad_checkpointing.')
        self._freeze()

    @staticmethod
    def _embed_dims(clip: nn.Module) -> int:
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
        """Load the ``pretrained`` weights; apply ``init_cfg`` only to a
        random model.

        MMEngine calls it when training starts; a model built to load a
        checkpoint never does, so it never reads the pretrained weights.
        open_clip initialises its modules when they are built, so there is
        nothing else to do without ``init_cfg``.
        """
        logger = MMLogger.get_current_instance()
        filename = load_pretrained_clip(self)
        if filename is not None:
            logger.info(f'OpenCLIPVisual: weights of {self.arch} loaded '
                        f'from {filename} (pretrained={self.pretrained!r}).')
            self._is_init = True
            return
        logger.info(f'OpenCLIPVisual: no pretrained weights for '
                    f'{self.arch}: open_clip\'s random initialisation.')
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
            ``D = embed_dims``.
        """
        use_cp = self.with_cp and not self.freeze_all and \
            torch.is_grad_enabled()
        if isinstance(self.visual, ModifiedResNet):
            return self._resnet_forward_cp(x) if use_cp else self.visual(x)
        if self.with_cp:  # open_clip's own switch, re-set for each call
            self.visual.set_grad_checkpointing(use_cp)
        return self.visual(x)

    def _resnet_forward_cp(self, x: torch.Tensor) -> torch.Tensor:
        """``ModifiedResNet.forward`` with the trainable stages checkpointed
        (stem as one segment, then one segment per bottleneck block)."""
        v = self.visual
        stem = [v.conv1, v.bn1, v.conv2, v.bn2, v.conv3, v.bn3]
        segments = [(0, v.stem, stem)] + [
            (stage, block, list(block.modules()))
            for stage, layer in enumerate(
                (v.layer1, v.layer2, v.layer3, v.layer4), start=1)
            for block in layer
        ]
        for stage, segment, modules in segments:
            if stage <= self.frozen_stages:
                x = segment(x)
            else:
                x = _checkpointed(segment, modules, x)
        return v.attnpool(x)

    # The encoder contract (m2df_mmaction/models/backbones/frame_features.py)
    @property
    def frame_feature_kinds(self) -> FrozenSet[str]:
        """frozenset[str]: The feature kinds this tower provides."""
        return open_clip_feature_kinds(self.visual)

    @property
    def frame_token_layers(self) -> int:
        """int: How many layers ``'tokens'`` indices count (ViT: blocks;
        ModifiedResNet: stem + 4 stages)."""
        return open_clip_token_layers(self.visual)

    def frame_feature_dims(self, request: FrameFeatureRequest) -> dict:
        """dict: Channels of the requested kinds, without a forward pass:
        ``frames`` (D), ``spatial`` and ``tokens`` (``{layer: C}``)."""
        return open_clip_feature_dims(self, request)

    def forward_frame_features(
            self, x: torch.Tensor,
            request: FrameFeatureRequest) -> FrameFeatures:
        """Pooled embeddings (``forward(x)``, bit-identical), spatial maps
        and intermediate tokens, the graph-free prefix under ``no_grad``;
        see :mod:`.open_clip_features`. Call it through
        :func:`~.frame_features.extract_frame_features`, which checks the
        request."""
        return open_clip_frame_features(self, x, request)
