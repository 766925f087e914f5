# Copyright (c) m2df_mmaction contributors.
"""Recognizer for N-way K-shot episodes."""
import copy
import inspect
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.models.recognizers import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from ..open_clip_utils import shared_open_clip_builds

__all__ = ['FewShotRecognizer']

EpisodeFeatures = Dict[str, Optional[Tensor]]


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

    and, if its ``uses_class_text`` is True (a video-text loss over all the
    dataset's classes, as CLIP-FSAR's), ``class_text [C, D]``: the text
    embeddings of every class of the training set, in label order.

    Heads whose constructor takes ``embed_dims`` (frame feature dim) or
    ``text_dims`` get them from the backbone's and text encoder's
    ``embed_dims`` (MMAction2's ResNets: ``feat_dim``) when the config
    leaves them out, so one head config serves every CLIP architecture.

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
        # One CLIP build for both encoders when they name the same weights.
        with shared_open_clip_builds():
            super().__init__(
                backbone=backbone,
                neck=neck,
                train_cfg=train_cfg,
                test_cfg=test_cfg,
                data_preprocessor=data_preprocessor)
            self.text_encoder = MODELS.build(text_encoder) \
                if text_encoder is not None else None
        self.cls_head = MODELS.build(self._complete_head_cfg(cls_head))

    def _complete_head_cfg(self, cls_head: ConfigType) -> dict:
        """Fill ``embed_dims``/``text_dims`` of the head from the encoders."""
        cls_head = copy.deepcopy(dict(cls_head))
        head_type = cls_head['type']
        head_cls = MODELS.get(head_type) if isinstance(head_type, str) \
            else head_type
        if head_cls is None:
            return cls_head  # let MODELS.build report the unknown type
        params = inspect.signature(head_cls.__init__).parameters
        # OpenMMLab's name, as our encoders and MMAction2's ViTs spell it;
        # MMAction2's ResNets call it feat_dim.
        visual_dim = next(
            (getattr(self.backbone, name)
             for name in ('embed_dims', 'feat_dim')
             if isinstance(getattr(self.backbone, name, None), int)), None)
        dims = dict(
            embed_dims=visual_dim,
            text_dims=getattr(self.text_encoder, 'embed_dims', None))
        for name, value in dims.items():
            if name in params and cls_head.get(name) is None and \
                    value is not None:
                cls_head[name] = value
        return cls_head

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

    def encode_class_text(self,
                          data_samples: SampleList) -> Optional[Tensor]:
        """Text embeddings of all the dataset's classes, if the head uses
        them.

        Args:
            data_samples (list[ActionDataSample]): One per episode; the first
                one's ``all_class_names`` metainfo is used.

        Returns:
            Tensor, optional: ``[C, D]``, or None.
        """
        if not (self.with_text_encoder
                and getattr(self.cls_head, 'uses_class_text', False)):
            return None
        names = data_samples[0].metainfo.get('all_class_names')
        if names is None:
            raise ValueError('The head needs the text of every class: set '
                             '`class_names` of EpisodicDataset.')
        return self.text_encoder(names)

    def split_episode(self, feats: Tensor,
                      data_samples: SampleList) -> EpisodeFeatures:
        """Turn the frame features of whole episodes into the head's inputs.

        This is the one place where an episode's videos are split into
        supports and queries and its class names are encoded: training,
        :meth:`predict`, the cached evaluation loops, the inference API and
        the analysis tools all go through it.

        Args:
            feats (Tensor): ``[B, V, T, D]`` frame features, ``V = N*(K+Q)``
                videos per episode in :class:`EpisodicDataset` order.
            data_samples (list[ActionDataSample]): One per episode; their
                metainfo gives N, K and Q (and the class names).

        Returns:
            dict: ``support`` ``[B, N*K, T, D]``, ``query``
            ``[B, N*Q, T, D]``, ``text`` ``[B, N, D]`` or None and
            ``class_text`` ``[C, D]`` or None.
        """
        if data_samples is None:
            raise ValueError('data_samples are needed to split an episode.')
        meta = data_samples[0].metainfo
        num_support = meta['num_ways'] * meta['num_shots']
        videos = feats.shape[1]
        if num_support + meta['num_ways'] * meta['num_queries'] != videos:
            raise ValueError(
                f'Episode layout mismatch: {videos} videos for N='
                f'{meta["num_ways"]}, K={meta["num_shots"]}, '
                f'Q={meta["num_queries"]}.')
        return self.episode_inputs(feats[:, :num_support],
                                   feats[:, num_support:], data_samples)

    def episode_inputs(self, support: Tensor, query: Tensor,
                       data_samples: SampleList) -> EpisodeFeatures:
        """The head's inputs from support and query frame features.

        :meth:`split_episode` calls it after splitting; the inference API
        calls it directly, with its cached supports and any number of
        queries.

        Args:
            support (Tensor): ``[B, N*K, T, D]``, way-major.
            query (Tensor): ``[B, M, T, D]``.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            dict: ``support``, ``query``, ``text`` ``[B, N, D]`` or None and
            ``class_text`` ``[C, D]`` or None.
        """
        return dict(
            support=support,
            query=query,
            text=self.encode_text(data_samples),
            class_text=self.encode_class_text(data_samples))

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'head',
                     data_samples: Optional[SampleList] = None,
                     test_mode: bool = False) -> Tuple[EpisodeFeatures, dict]:
        """Encode an episode batch, then split it (:meth:`split_episode`).

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]`` with ``V = N*(K+Q)``.
            stage (str): ``'backbone'`` returns the ``[B, V, T, D]`` frame
                features; ``'head'`` the episode split. Defaults to 'head'.
            data_samples (list[ActionDataSample]): One per episode; their
                metainfo gives N, K and Q.
            test_mode (bool): Unused; kept for MMAction2 parity.

        Returns:
            tuple: ``(feats, {})``; ``feats`` is the ``[B, V, T, D]`` frame
            features for ``stage='backbone'``, else the dict of
            :meth:`split_episode`.
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
        return self.split_episode(feats, data_samples), {}

    def predict_from_features(self, feats: Tensor,
                              data_samples: SampleList) -> SampleList:
        """Predict episodes from their frame features.

        The prediction path shared by :meth:`predict`, the cached
        evaluation loops and the inference API.

        Args:
            feats (Tensor): ``[B, V, T, D]`` frame features.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            list[ActionDataSample]: With ``pred_score`` ``[N*Q, N]`` and
            ``pred_label`` ``[N*Q]``.
        """
        return self.cls_head.predict(
            self.split_episode(feats, data_samples), data_samples)

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
        feats, _ = self.extract_feat(inputs, stage='backbone')
        return self.predict_from_features(feats, data_samples)

    def _forward(self, inputs: Tensor, stage: str = 'backbone',
                 **kwargs) -> Tensor:
        """Frame features ``[B, V, T, D]`` (``mode='tensor'``)."""
        feats, _ = self.extract_feat(inputs, stage='backbone')
        return feats
