# Copyright (c) m2df_mmaction contributors.
"""A frozen open_clip ViT that feeds a trainable side network (TS-FSAR)."""
from typing import FrozenSet, Optional

import torch
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from open_clip.transformer import VisionTransformer
from torch import Tensor

from .frame_features import FrameFeatureRequest, FrameFeatures
from .open_clip_adapted import _fill_frozen, drop_frozen
from .open_clip_visual import OpenCLIPVisual

__all__ = ['OpenCLIPSide']


@MODELS.register_module()
class OpenCLIPSide(OpenCLIPVisual):
    """A frozen CLIP ViT and a side network that reads all its layers.

    The whole tower is frozen and runs **without an autograd graph**
    (``torch.no_grad``), block by block; after each block the side network
    (``side``, e.g. :class:`~m2df_mmaction.models.layers.LadderSideNetwork`)
    takes its hidden states one step further, so only one of the tower's
    hidden states is alive at a time and the backward pass never enters
    the tower. This is TS-FSAR's design (yaozhang0417/TS-FSAR
    ``trainers/model.py`` ``LSN.forward``: the CLIP layers are frozen and
    only the side parts train; ``utils/optimizer.py`` puts only ``side*``,
    ``Adapter``, ``Linear``, ``up_*`` and ``generator`` parameters in the
    optimizer).

    Encoder contract: ``frames`` are the frozen tower's projected class
    tokens ``[M, D]`` (exactly ``forward``: CLIP's image embedding, which
    TS-FSAR adapts for its text losses); ``tokens`` has one layer, the side
    network's output ``[M, 1 + P, C]`` (index 0 or -1), computed only when
    a head asks for it.

    Args:
        arch (str): open_clip ViT architecture.
        side (dict): Side network config; ``in_dims``, ``num_layers`` and
            ``num_frames`` are filled in. Defaults to TS-FSAR's LSN.
        num_frames (int): Frames per video ``T`` of the flat frame batches
            ``[B*T, 3, H, W]`` (the pipeline's ``num_clips``).
        init_side (str, optional): ``'pca'``: when the pretrained tower
            loads (:meth:`init_weights`, at the start of training), shrink
            each tower block into its side block (official
            ``prune_and_initialize``); None: keep the side network's own
            init. Defaults to ``'pca'``.
        save_trainable_only (bool): Leave the frozen tower out of
            ``state_dict()`` and every checkpoint; loading one reads the
            tower from ``pretrained`` (see :class:`OpenCLIPAdapted`).
            Defaults to False.
        with_cp (bool): Checkpoint the side blocks (the frozen tower keeps
            no activations for the backward anyway). Defaults to False.
        **kwargs: :class:`OpenCLIPVisual` options (``pretrained``,
            ``quick_gelu``, ...).
    """

    def __init__(self,
                 arch: str,
                 num_frames: int,
                 side: dict = dict(type='LadderSideNetwork'),
                 init_side: Optional[str] = 'pca',
                 save_trainable_only: bool = False,
                 with_cp: bool = False,
                 **kwargs) -> None:
        for key in ('freeze_all', 'frozen_stages'):
            if key in kwargs:
                raise ValueError(f'OpenCLIPSide freezes the whole tower; '
                                 f'{key} is not an option.')
        super().__init__(arch, freeze_all=True, **kwargs)
        if not isinstance(self.visual, VisionTransformer):
            raise ValueError(
                f'OpenCLIPSide reads the hidden states of ViT blocks; {arch} '
                f'is a {type(self.visual).__name__}.')
        if init_side not in (None, 'pca'):
            raise ValueError(f"init_side must be 'pca' or None, got "
                             f'{init_side!r}.')
        self.num_frames = num_frames
        self.init_side = init_side
        self.with_cp = with_cp
        blocks = self.visual.transformer.resblocks
        cfg = dict(side)
        cfg.setdefault('in_dims', self.visual.transformer.width)
        cfg.setdefault('num_layers', len(blocks))
        cfg.setdefault('num_frames', num_frames)
        cfg.setdefault('with_cp', with_cp)
        if cfg['num_layers'] != len(blocks):
            raise ValueError(
                f'OpenCLIPSide: the side network has num_layers='
                f'{cfg["num_layers"]} and the {arch} tower {len(blocks)} '
                'blocks; it reads every block (leave num_layers out).')
        self.side = MODELS.build(cfg)
        #: Channels ``C`` of the side tokens (a head's ``side_dims``).
        self.side_dims = self.side.embed_dims
        self.save_trainable_only = save_trainable_only
        self.frozen_keys = [
            f'visual.{n}' for n, p in self.visual.named_parameters()
        ]
        if save_trainable_only:
            self._register_state_dict_hook(drop_frozen)
        handle = self._register_load_state_dict_pre_hook(
            _fill_frozen, with_module=True)
        self._load_state_dict_pre_hooks.move_to_end(handle.id, last=False)

    def init_weights(self) -> None:
        """Load the pretrained tower, then (``init_side='pca'``) initialise
        the side blocks from it."""
        super().init_weights()
        if self.init_side == 'pca':
            self.side.init_from_tower(self.visual.transformer.resblocks)
            MMLogger.get_current_instance().info(
                'OpenCLIPSide: side blocks initialised from the tower by PCA.')

    def _tower(self, x: Tensor, side: bool):
        """Run the frozen tower (no graph), stepping the side network."""
        v = self.visual
        with torch.no_grad():
            hidden = v._embeds(x)
        state = self.side.enter(hidden) if side else None
        for i, block in enumerate(v.transformer.resblocks):
            with torch.no_grad():
                hidden = block(hidden)
            if side:
                state = self.side.step(i, state, hidden)
        with torch.no_grad():
            pooled, _ = v._pool(hidden)
            if v.proj is not None:
                pooled = pooled @ v.proj
        return pooled, state

    def forward(self, x: Tensor) -> Tensor:
        """``[B*T, 3, H, W]`` -> the frozen image embeddings ``[B*T, D]``."""
        if x.shape[0] % self.num_frames:
            raise ValueError(
                f'OpenCLIPSide: {x.shape[0]} frames do not split into videos '
                f'of num_frames={self.num_frames}.')
        return self._tower(x, side=False)[0]

    @property
    def frame_feature_kinds(self) -> FrozenSet[str]:
        """``frames`` and ``tokens`` (the side network's output)."""
        return frozenset({'frames', 'tokens'})

    @property
    def frame_token_layers(self) -> int:
        """One token layer: the side network's output."""
        return 1

    def frame_feature_dims(self, request: FrameFeatureRequest) -> dict:
        """``frames``: D; ``tokens``: the side width for the one layer."""
        return dict(
            frames=self.embed_dims,
            spatial=None,
            tokens={layer: self.side_dims
                    for layer in request.layers})

    def forward_frame_features(self, x: Tensor,
                               request: FrameFeatureRequest) -> FrameFeatures:
        """Pooled frozen embeddings, and the side tokens when asked."""
        if not request.layers:
            return FrameFeatures(pooled=self(x), spatial=None, tokens=None)
        if x.shape[0] % self.num_frames:
            raise ValueError(
                f'OpenCLIPSide: {x.shape[0]} frames do not split into videos '
                f'of num_frames={self.num_frames}.')
        pooled, side = self._tower(x, side=True)
        return FrameFeatures(
            pooled=pooled,
            spatial=None,
            tokens={layer: side for layer in request.layers})
