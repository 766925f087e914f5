# Copyright (c) m2df_mmaction contributors.
"""MoLo (Wang et al., CVPR 2023): motion-augmented long-short contrastive
few-shot action recognition.

Official: ``CNN_BiMHM_MoLo`` of ``models/base/few_shot.py``
(alibaba-mmai-research/MoLo ``f7f73b6``, L2390-L2656) and its loss in
``runs/train_net_few_shot.py`` L108-L125 (the ``USE_RECONS`` arm).
"""
import copy
from typing import Dict, FrozenSet, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from ..layers import pairwise_cos_sim
from .base_few_shot_head import (BaseFewShotHead, MatchView,
                                 class_prototypes, require_training_outputs)

__all__ = ['MoLoHead']

_VIEWS = ('appearance', 'motion')


@MODELS.register_module()
class MoLoHead(BaseFewShotHead):
    """MoLo head on spatial maps (and, in training, the raw frames).

    Per video, from its spatial maps ``[T, C, h, w]`` (the encoder
    contract's ``spatial``; official: a ResNet's ``layer4`` map, 7x7):

    - **appearance**: the spatial mean of each map ``[T, D]``;
    - **motion**: :class:`MoLoMotionEncoder` (Conv3d, then the convolved
      next frame minus the current one, ``[T-1, D/8, h, w]``), then
      ``ReLU(1x1 conv)`` and the spatial mean: ``[T-1, D]``;
    - each stream prepends its own class token, goes through
      :class:`ScaledPositionalEncoding` (one shared table) and its own
      temporal transformer (:class:`CrossTransformerFusion` as
      self-attention: pre-LN attention, then an FFN without LayerNorm,
      official ``Transformer_v2``), then ReLU. Token 0 is the video's
      global token, the others its frames.

    Prototypes are the per-class means of the supports after the
    transformers. The main distance is Bi-MHM (:class:`BiMHM`) on
    ``1 - cos`` (official ``cos_sim``, +0.01) of the frame tokens,
    appearance plus ``motion_weight`` x motion (``LOGIT_BALANCE_COFF``,
    0.3); ``logits = -distance``.

    Training adds (all in :meth:`extra_losses`):

    - ``loss_class``: cross-entropy of a linear classifier over the
      training classes (``USE_CLASSIFICATION_VALUE``; 0.8 SSv2, 0.1 K100)
      on ``mean(appearance tokens) + mean(motion tokens)`` of every support
      and query, against their global class ids;
    - ``loss_contrastive`` / ``loss_contrastive_motion``: the long-short
      contrastive terms of each stream (:class:`LongShortContrastiveLoss`,
      0.05 each, with learnable scales);
    - ``loss_recons``: the motion maps decoded to pixels
      (:class:`MoLoMotionDecoder`) against the raw frame differences
      (:class:`MotionReconstructionLoss`). The decoder's BatchNorm takes
      batch statistics over every video of the batch.

    Args:
        embed_dims (int): ``D``, the channels of the spatial maps (filled in
            by the recognizer from the encoder; an encoder whose map has
            other channels than its pooled frames, e.g. open_clip's
            ModifiedResNet, needs it set to the map's channels).
        num_classes (int): Training classes of the auxiliary classifier
            (official ``TRAIN.NUM_CLASS``, 64 for SSv2). Must equal the
            training split's number of classes.
        motion (dict): :class:`MoLoMotionEncoder` config
            (``in_channels`` is ``D``; official width ``D // 8``).
        transformer (dict): Temporal transformer config, one per stream
            (official ``Transformer_v2``: 8 heads of ``D/8``, FFN width
            2048 whatever ``D``, dropout 0.2 after the attention and 0.05
            in the FFN).
        positional_encoding (dict): :class:`ScaledPositionalEncoding` config
            (``POSITION_A``/``POSITION_B``: 10/1 by default, 2048/0.02 in
            the Kinetics-100 yamls).
        decoder (dict): :class:`MoLoMotionDecoder` config
            (``in_channels`` is the motion width).
        bimhm (dict): Set matcher config.
        motion_weight (float): Weight of the motion distance
            (``TRAIN.LOGIT_BALANCE_COFF``, 0.3 when absent).
        loss_cls (dict): Cross-entropy of the logits (weight 1).
        loss_class (dict, optional): Auxiliary classification loss
            (MMAction2's ``CrossEntropyLoss``); None turns it and the
            classifier off.
        loss_contrastive (dict, optional): :class:`LongShortContrastiveLoss`
            config, built once per stream; None turns it off.
        loss_recons (dict, optional): :class:`MotionReconstructionLoss`
            config; None turns the decoder and the raw frames off. Default
            weight 0.4 = ``RECONS_COFF`` 0.1 x ``BATCH_SIZE`` 4: the
            official loop divides every other term by its 4 accumulated
            episodes, not this one (``train_net_few_shot.py`` L125).
        init_scale (float): Scale ``s`` of the logits ``-s * distance``.
            Defaults to 1 (official: no scale).
        learnable_scale (bool): Learn ``log s``. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: Optional[int] = None,
                 num_classes: int = 64,
                 motion: dict = dict(type='MoLoMotionEncoder', reduction=8),
                 transformer: dict = dict(
                     type='CrossTransformerFusion',
                     num_heads=8,
                     ffn_dims=2048,
                     proj_drop=0.2,
                     ffn_drop=0.05),
                 positional_encoding: dict = dict(
                     type='ScaledPositionalEncoding',
                     a_scale=10.0,
                     b_scale=1.0,
                     max_len=20,
                     dropout=0.1),
                 decoder: dict = dict(type='MoLoMotionDecoder'),
                 bimhm: dict = dict(type='BiMHM'),
                 motion_weight: float = 0.3,
                 loss_cls: dict = dict(
                     type='FewShotCrossEntropyLoss', loss_weight=1.0),
                 loss_class: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=0.8),
                 loss_contrastive: Optional[dict] = dict(
                     type='LongShortContrastiveLoss', loss_weight=0.05),
                 loss_recons: Optional[dict] = dict(
                     type='MotionReconstructionLoss', loss_weight=0.4),
                 init_scale: float = 1.0,
                 learnable_scale: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            loss_cls=loss_cls,
            init_scale=init_scale,
            learnable_scale=learnable_scale,
            init_cfg=init_cfg)
        if embed_dims is None:
            raise ValueError(
                f'{type(self).__name__} needs embed_dims, the channels of '
                "the encoder's spatial maps; FewShotRecognizer fills it in "
                'from an encoder with embed_dims or feat_dim, and this one '
                'has neither: set cls_head.embed_dims.')
        self.embed_dims = embed_dims
        self.num_classes = num_classes
        self.motion_weight = motion_weight
        self.motion = MODELS.build(dict(motion, in_channels=embed_dims))
        self.pe = MODELS.build(
            dict(positional_encoding, embed_dims=embed_dims))
        self.class_token = nn.Parameter(torch.randn(1, 1, embed_dims))
        self.class_token_motion = nn.Parameter(torch.randn(1, 1, embed_dims))
        transformer = dict(transformer, embed_dims=embed_dims)
        self.transformer = MODELS.build(copy.deepcopy(transformer))
        self.transformer_motion = MODELS.build(copy.deepcopy(transformer))
        self.bimhm = MODELS.build(bimhm)
        self.classifier = self.loss_class = None
        if loss_class is not None:
            self.classifier = nn.Linear(embed_dims, num_classes)
            self.loss_class = MODELS.build(loss_class)
        self.loss_contrastive = self.loss_contrastive_motion = None
        if loss_contrastive is not None:
            self.loss_contrastive = MODELS.build(copy.deepcopy(
                loss_contrastive))
            self.loss_contrastive_motion = MODELS.build(
                copy.deepcopy(loss_contrastive))
        self.decoder = self.loss_recons = None
        if loss_recons is not None:
            self.decoder = MODELS.build(
                dict(decoder, in_channels=self.motion.motion_channels))
            self.loss_recons = MODELS.build(loss_recons)

    @property
    def needs(self) -> FrozenSet[str]:
        """Frames and spatial maps; in training, raw frames with the
        reconstruction loss (its target: evaluation never reads them, so
        the cached loops can serve MoLo); global class ids with the
        classification loss."""
        needs = {'frames', 'spatial'}
        if self.loss_recons is not None and self.training:
            needs.add('raw_frames')
        if self.loss_class is not None:
            needs.add('class_ids')
        return frozenset(needs)

    def match_views(self) -> Dict[str, MatchView]:
        """Bi-MHM on the appearance and on the motion frame tokens."""
        return {
            view: MatchView(self.bimhm, f'frame_distances_{view}',
                            f'distance_{view}')
            for view in _VIEWS
        }

    def _temporal(self, frames: Tensor, token: Tensor,
                  transformer: nn.Module) -> Tensor:
        """``ReLU(transformer(PE([token; frames])))`` ``[V, 1 + T, D]``."""
        token = token.to(frames.dtype).expand(frames.size(0), -1, -1)
        tokens = self.pe(torch.cat([token, frames], 1))
        return F.relu(transformer(tokens, tokens))

    def _check_maps(self, maps: Tensor, episode: Episode) -> None:
        """Refuse maps of the wrong width, or frames the decoder cannot
        reconstruct, before any work."""
        if maps.dim() != 6 or maps.size(3) != self.embed_dims:
            raise ValueError(
                f'{type(self).__name__} reads spatial maps [B, V, T, C='
                f'{self.embed_dims}, h, w] (embed_dims), got '
                f'{tuple(maps.shape)}: set cls_head.embed_dims to the '
                "channels of the encoder's spatial map.")
        if self.decoder is None or not self.training:
            return
        frames = episode.extra('raw_frames')['support']
        size = tuple(s * self.decoder.upscale for s in maps.shape[-2:])
        if tuple(frames.shape[-2:]) != size:
            raise ValueError(
                f'{type(self).__name__}: the decoder upsamples the '
                f'{tuple(maps.shape[-2:])} maps by {self.decoder.upscale} to '
                f'{size}, and the frames are {tuple(frames.shape[-2:])}: '
                'set decoder.scale_factors (official (2, 4, 4): 7x7 maps of '
                '224x224 frames) or the frame size, or loss_recons=None.')

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Score queries; see the class docstring.

        Returns:
            dict[str, Tensor]: ``logits`` ``[B, M, N]``; per view
            (``appearance``, ``motion``) ``frame_distances_<view>``
            ``[B, M, N, Tq, Ts]`` (query frame tokens by prototype frame
            tokens; ``T`` and ``T-1`` frames) and ``distance_<view>``
            ``[B, M, N]`` (Bi-MHM); ``class_logits`` ``[B, N*K + M, C]``
            (supports, then queries) with the classifier;
            ``logits_s2q``, ``logits_q2s``, ``logits_s2q_motion``,
            ``logits_q2s_motion`` ``[B, M, N]`` with the contrastive loss;
            in training with the reconstruction loss, ``motion_recons``
            ``[B, N*K + M, T-1, 3, H, W]``.
        """
        spatial = episode.extra('spatial')
        self._check_maps(spatial['support'], episode)
        batch, num_support = spatial['support'].shape[:2]
        maps = torch.cat([spatial['support'], spatial['query']], 1)
        maps = maps.flatten(0, 1)  # [V, T, C, h, w], V = B * (N*K + M)
        motion_maps = self.motion(maps)  # [V, T-1, C', h, w]
        streams = dict(
            appearance=self._temporal(
                maps.mean((-2, -1)), self.class_token, self.transformer),
            motion=self._temporal(
                self.motion.embed(motion_maps), self.class_token_motion,
                self.transformer_motion))
        streams = {k: v.unflatten(0, (batch, -1)) for k, v in streams.items()}
        outputs = {}
        if self.classifier is not None:
            outputs['class_logits'] = self.classifier(
                streams['appearance'].mean(2) + streams['motion'].mean(2))
        for view, tokens in streams.items():
            protos = class_prototypes(tokens[:, :num_support],
                                      episode.num_ways)
            queries = tokens[:, num_support:]
            frame_dists = 1 - pairwise_cos_sim(queries[..., 1:, :],
                                               protos[..., 1:, :])
            outputs[f'frame_distances_{view}'] = frame_dists
            outputs[f'distance_{view}'] = self.bimhm(frame_dists.float())
            loss = self.loss_contrastive if view == 'appearance' else \
                self.loss_contrastive_motion
            if loss is not None:
                suffix = '' if view == 'appearance' else '_motion'
                s2q, q2s = loss.logits(queries[..., 1:, :], queries[..., 0, :],
                                       protos[..., 1:, :], protos[..., 0, :])
                outputs[f'logits_s2q{suffix}'] = s2q
                outputs[f'logits_q2s{suffix}'] = q2s
        distances = outputs['distance_appearance'] + \
            self.motion_weight * outputs['distance_motion']
        outputs['logits'] = -self.logit_scale * distances
        if self.decoder is not None and self.training:
            recons = self.decoder(motion_maps.flatten(0, 1))
            outputs['motion_recons'] = recons.unflatten(
                0, motion_maps.shape[:2]).unflatten(0, (batch, -1))
        return outputs

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """``loss_class``, ``loss_contrastive(_motion)``, ``loss_recons``
        (those enabled)."""
        losses = {}
        labels = episode.require('query_labels')
        if self.loss_class is not None:
            if episode.num_classes is not None and \
                    episode.num_classes != self.num_classes:
                raise ValueError(
                    f'{type(self).__name__} classifies the '
                    f'{self.num_classes} training classes (num_classes) and '
                    f'the training split has {episode.num_classes}: set '
                    f'cls_head.num_classes={episode.num_classes}.')
            ids = torch.cat([episode.support_class_ids(),
                             episode.query_class_ids()], dim=1)
            losses['loss_class'] = self.loss_class(
                outputs['class_logits'].flatten(0, 1).float(), ids.flatten())
        for view in _VIEWS:
            suffix = '' if view == 'appearance' else '_motion'
            loss = getattr(self, f'loss_contrastive{suffix}')
            if loss is not None:
                losses[f'loss_contrastive{suffix}'] = loss(
                    outputs[f'logits_s2q{suffix}'],
                    outputs[f'logits_q2s{suffix}'], labels)
        if self.loss_recons is not None:
            require_training_outputs(self, outputs, ('motion_recons', ),
                                     'loss_recons')
            raw = episode.extra('raw_frames')
            frames = torch.cat([raw['support'], raw['query']], 1)
            losses['loss_recons'] = self.loss_recons(
                outputs['motion_recons'].flatten(0, 1), frames.flatten(0, 1))
        return losses
