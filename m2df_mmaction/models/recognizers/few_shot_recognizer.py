# Copyright (c) m2df_mmaction contributors.
"""Recognizer for N-way K-shot episodes."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.models.recognizers import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

__all__ = ['FewShotRecognizer']

EpisodeFeatures = Tuple[Tensor, Tensor, Optional[Tensor]]


@MODELS.register_module()
class FewShotRecognizer(BaseRecognizer):
    """Few-shot recognizer: frame features of an episode, then a head.

    An input batch holds ``B`` episodes of ``V = N*(K+Q)`` videos of ``T``
    frames each, laid out as :class:`~m2df_mmaction.datasets.EpisodicDataset`
    writes them (supports first, way-major, then queries). Every frame goes
    through the 2D ``backbone`` (an :class:`OpenCLIPVisual` or any MMAction2
    2D backbone; spatial maps are average-pooled); when a ``text_encoder`` is
    given, the episode's class names go through it. The head receives::

        support [B, N*K, T, D], query [B, N*Q, T, D], text [B, N, D] or None

    Args:
        backbone (dict): Frame encoder config.
        cls_head (dict): Few-shot head config (e.g. ``M2DFHead``).
        text_encoder (dict, optional): Class-name encoder config, e.g.
            ``OpenCLIPText``. Defaults to None.
        neck (dict, optional): Neck applied to frame features. Defaults to
            None.
        train_cfg (dict, optional): Unused, kept for MMAction2 parity.
        test_cfg (dict, optional): Unused, kept for MMAction2 parity.
        data_preprocessor (dict, optional): Usually
            ``ActionDataPreprocessor(format_shape='NCHW')`` with CLIP's
            mean and std.
    """

    def __init__(self,
                 backbone: ConfigType,
                 cls_head: ConfigType,
                 text_encoder: OptConfigType = None,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None) -> None:
        super().__init__(
            backbone=backbone,
            cls_head=cls_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.text_encoder = MODELS.build(text_encoder) \
            if text_encoder is not None else None

    @property
    def with_text_encoder(self) -> bool:
        """bool: Whether the recognizer encodes class names."""
        return self.text_encoder is not None

    def encode_frames(self, frames: Tensor) -> Tensor:
        """Encode a flat batch of frames.

        Args:
            frames (Tensor): ``[M, C, H, W]``.

        Returns:
            Tensor: ``[M, D]``.
        """
        feats = self.backbone(frames)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if self.with_neck:
            feats = self.neck(feats)
            if isinstance(feats, tuple):
                feats = feats[0]
        if feats.dim() == 4:  # [M, C, H, W] maps of a CNN/ViT backbone
            feats = F.adaptive_avg_pool2d(feats, 1)
        return feats.flatten(1)

    def encode_text(self, data_samples: SampleList) -> Optional[Tensor]:
        """Text embeddings of each episode's class names.

        Args:
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            Tensor, optional: ``[B, N, D]``, or None without a text encoder.
        """
        if not self.with_text_encoder:
            return None
        texts = []
        for sample in data_samples:
            names = sample.metainfo.get('class_names')
            if names is None:
                raise ValueError(
                    'This model encodes class names, but the episodes carry '
                    'none: set `class_names` of EpisodicDataset.')
            texts.append(self.text_encoder(names))
        return torch.stack(texts)

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'head',
                     data_samples: Optional[SampleList] = None,
                     test_mode: bool = False) -> Tuple[EpisodeFeatures, dict]:
        """Split an episode batch into support and query frame features.

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]`` with ``V = N*(K+Q)``.
            stage (str): ``'backbone'`` returns the ``[B, V, T, D]`` frame
                features; ``'head'`` the episode split. Defaults to 'head'.
            data_samples (list[ActionDataSample]): One per episode; their
                metainfo gives N, K and Q.
            test_mode (bool): Unused; kept for MMAction2 parity.

        Returns:
            tuple: ``((support, query, text), {})`` with support
            ``[B, N*K, T, D]``, query ``[B, N*Q, T, D]`` and text
            ``[B, N, D]`` or None.
        """
        if inputs.dim() != 6:
            raise ValueError(
                'FewShotRecognizer expects episodes [B, V, T, C, H, W] '
                f'(EpisodicDataset + FormatShape("NCHW")), got shape '
                f'{tuple(inputs.shape)}.')
        batch, videos, frames = inputs.shape[:3]
        feats = self.encode_frames(inputs.flatten(0, 2))
        feats = feats.view(batch, videos, frames, -1)
        if stage == 'backbone':
            return feats, {}
        if data_samples is None:
            raise ValueError('data_samples are needed to split an episode.')
        meta = data_samples[0].metainfo
        num_support = meta['num_ways'] * meta['num_shots']
        if num_support + meta['num_ways'] * meta['num_queries'] != videos:
            raise ValueError(
                f'Episode layout mismatch: {videos} videos for N='
                f'{meta["num_ways"]}, K={meta["num_shots"]}, '
                f'Q={meta["num_queries"]}.')
        support, query = feats[:, :num_support], feats[:, num_support:]
        return (support, query, self.encode_text(data_samples)), {}

    def loss(self, inputs: Tensor, data_samples: SampleList,
             **kwargs) -> dict:
        """Losses of a batch of episodes.

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]``.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            dict: Loss terms (``loss_*``) and logged values.
        """
        feats, _ = self.extract_feat(inputs, data_samples=data_samples)
        return self.cls_head.loss(feats, data_samples, **kwargs)

    def predict(self, inputs: Tensor, data_samples: SampleList,
                **kwargs) -> List:
        """Predict the query labels of a batch of episodes.

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]``.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            list[ActionDataSample]: With ``pred_score`` ``[N*Q, N]`` and
            ``pred_label`` ``[N*Q]``.
        """
        feats, _ = self.extract_feat(
            inputs, data_samples=data_samples, test_mode=True)
        return self.cls_head.predict(feats, data_samples, **kwargs)

    def _forward(self, inputs: Tensor, stage: str = 'backbone',
                 **kwargs) -> Tensor:
        """Frame features ``[B, V, T, D]`` (``mode='tensor'``)."""
        feats, _ = self.extract_feat(inputs, stage='backbone')
        return feats
