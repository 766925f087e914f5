# Copyright (c) m2df_mmaction contributors.
"""Recognizer for N-way K-shot episodes."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmaction.models.recognizers import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from m2df_mmaction.structures import (FRAME_KINDS, Episode, EpisodeLayout,
                                      episode_layout, episode_targets)
from ..backbones.frame_features import extract_frame_features
from ..open_clip_utils import shared_open_clip_builds
from .head_wiring import check_head_needs, complete_head_cfg

__all__ = ['FewShotRecognizer']

#: Features of an episode's videos by kind (``FRAME_KINDS``), each
#: ``[B, V, T, ...]``.
VideoFeatures = Dict[str, Tensor]


@MODELS.register_module()
class FewShotRecognizer(BaseRecognizer):
    """Few-shot recognizer: frame features of an episode, then a head.

    An input batch holds ``B`` episodes of ``V = N*(K+Q)`` videos of ``T``
    frames each, laid out as :class:`~m2df_mmaction.datasets.EpisodicDataset`
    writes them (supports first, way-major, then queries). Every frame goes
    through the 2D ``backbone`` (an :class:`OpenCLIPVisual` or any MMAction2
    2D backbone; spatial maps are average-pooled). :meth:`build_episode`
    then makes the head's :class:`~m2df_mmaction.structures.Episode`
    (supports ``[B, N*K, T, D]``, queries ``[B, N*Q, T, D]``, labels) with
    what the head declares in its ``needs``: the text of the episode's
    class names and of every class of the split (through the
    ``text_encoder``), global class ids, episode keys, raw frames. A head
    that needs what the recognizer cannot give is refused when the model
    is built.

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
        self.cls_head = MODELS.build(
            complete_head_cfg(cls_head, self.backbone, self.text_encoder))
        self.frame_request = check_head_needs(
            self.cls_head, self.backbone, self.text_encoder,
            self.neck if self.with_neck else None)

    def init_weights(self) -> None:
        """Initialise every part (the encoders load their pretrained
        weights), then let a head that starts from the encoder's weights
        take them (``cls_head.init_from_encoder(backbone)``, e.g. TS-FSAR's
        frozen-CLIP adapter, shrunk from CLIP's last block)."""
        super().init_weights()
        init_from_encoder = getattr(self.cls_head, 'init_from_encoder', None)
        if init_from_encoder is not None:
            init_from_encoder(self.backbone)

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

    def encode_videos(self, inputs: Tensor) -> VideoFeatures:
        """Encode the frames of a batch of episodes, as the head needs them.

        Pooled frame features come from :meth:`encode_frames`; the richer
        kinds a head declares (``spatial``, ``tokens`` of its
        ``token_layers``) from the encoder contract
        (:func:`extract_frame_features`, whose pooled output is the same),
        ``raw_frames`` are the inputs themselves.

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]`` with ``V = N*(K+Q)``.

        Returns:
            dict[str, Tensor]: ``frames`` ``[B, V, T, D]``; if the head
            needs them ``spatial`` ``[B, V, T, C, h, w]``,
            ``tokens/<layer>`` ``[B, V, T, L, C]`` per token layer and
            ``raw_frames`` (the inputs).
        """
        if inputs.dim() != 6:
            raise ValueError(
                'FewShotRecognizer expects episodes [B, V, T, C, H, W] '
                f'(EpisodicDataset + FormatShape("NCHW")), got shape '
                f'{tuple(inputs.shape)}.')
        frames = getattr(self.backbone, 'num_frames', None)
        if isinstance(frames, int) and inputs.shape[2] != frames:
            raise ValueError(
                f'The clips have {inputs.shape[2]} frames and the encoder '
                f'{type(self.backbone).__name__} groups them by '
                f'num_frames={frames}: set model.backbone.num_frames to the '
                "pipeline's num_clips.")
        lead = inputs.shape[:3]
        flat = inputs.flatten(0, 2)
        if self.frame_request.kinds == {'frames'}:
            feats = dict(frames=self.encode_frames(flat).view(*lead, -1))
        else:
            found = extract_frame_features(
                self.backbone, flat, self.frame_request,
                self.neck if self.with_neck else None,
                type(self.cls_head).__name__)
            feats = dict(frames=found.pooled.view(*lead, -1))
            if found.spatial is not None:
                feats['spatial'] = found.spatial.unflatten(0, lead)
            for layer, tokens in (found.tokens or {}).items():
                feats[f'tokens/{layer}'] = tokens.unflatten(0, lead)
        if 'raw_frames' in self.cls_head.needs:
            feats['raw_frames'] = inputs
        return feats

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

    def encode_class_text(self, data_samples: SampleList) -> Tensor:
        """Text embeddings of all the split's classes.

        Args:
            data_samples (list[ActionDataSample]): One per episode; the first
                one's ``all_class_names`` metainfo is used.

        Returns:
            Tensor: ``[C, D]``.
        """
        names = data_samples[0].metainfo.get('all_class_names')
        if names is None:
            raise ValueError('The head needs the text of every class: set '
                             '`class_names` of EpisodicDataset.')
        return self.text_encoder(names)

    def build_episode(self, feats: Union[Tensor, VideoFeatures],
                      data_samples: SampleList) -> Episode:
        """Turn the features of whole episodes into the head's
        :class:`Episode`.

        This is the one place where an episode's videos are split into
        supports and queries and its class names are encoded: training,
        :meth:`predict`, the cached evaluation loops, the inference API and
        the analysis tools all go through it (or, with supports and queries
        already apart, through :meth:`episode_from_parts`).

        Args:
            feats (Tensor | dict[str, Tensor]): ``[B, V, T, D]`` frame
                features, or :meth:`encode_videos`'s dict of them by kind,
                ``V = N*(K+Q)`` videos per episode in
                :class:`EpisodicDataset` order.
            data_samples (list[ActionDataSample]): One per episode; their
                metainfo gives N, K and Q (:func:`episode_layout`).

        Returns:
            Episode: With what the head :attr:`~BaseFewShotHead.needs`.
        """
        if data_samples is None:
            raise ValueError('data_samples are needed to split an episode.')
        feats = _by_kind(feats)
        layout = episode_layout(data_samples)
        videos = feats['frames'].shape[1]
        if layout.num_queries is None or \
                layout.num_support + layout.num_ways * layout.num_queries \
                != videos:
            raise ValueError(
                f'Episode layout mismatch: {videos} videos for N='
                f'{layout.num_ways}, K={layout.num_shots}, '
                f'Q={layout.num_queries}.')
        split = layout.num_support
        return self.episode_from_parts(
            {k: v[:, :split] for k, v in feats.items()},
            {k: v[:, split:] for k, v in feats.items()}, data_samples,
            layout)

    def episode_from_parts(
            self,
            support: Union[Tensor, VideoFeatures],
            query: Union[Tensor, VideoFeatures],
            data_samples: SampleList,
            layout: Optional[EpisodeLayout] = None) -> Episode:
        """The head's :class:`Episode` from support and query features.

        :meth:`build_episode` calls it after splitting; the inference API
        calls it directly, with its cached supports and any number of
        queries.

        Args:
            support (Tensor | dict[str, Tensor]): ``[B, N*K, T, D]`` frame
                features (way-major), or a dict of them by kind.
            query (Tensor | dict[str, Tensor]): ``[B, M, T, D]``, or a dict.
            data_samples (list[ActionDataSample]): One per episode.
            layout (EpisodeLayout, optional): Their N, K, Q if already read
                (:func:`episode_layout`).

        Returns:
            Episode: With what the head :attr:`~BaseFewShotHead.needs`.
        """
        support, query = _by_kind(support), _by_kind(query)
        needs = self.cls_head.needs
        layout = layout or episode_layout(data_samples)
        missing = [
            kind for kind in needs & set(FRAME_KINDS)
            if not (_has_kind(support, kind) and _has_kind(query, kind))
        ]
        if missing:
            raise ValueError(
                f'{type(self.cls_head).__name__} needs {sorted(missing)} '
                'features of the episode videos, which were not computed '
                f'(computed: {sorted(support)}).')
        targets = episode_targets(data_samples, support['frames'].device,
                                  need_class_ids='class_ids' in needs,
                                  need_keys='keys' in needs)
        return Episode(
            num_ways=layout.num_ways,
            num_shots=layout.num_shots,
            support=support['frames'],
            query=query['frames'],
            query_labels=targets.query_labels,
            class_ids=targets.class_ids,
            num_classes=targets.num_classes,
            keys=targets.keys,
            text=self.encode_text(data_samples) if 'text' in needs else None,
            class_text=self.encode_class_text(data_samples)
            if 'class_text' in needs else None,
            support_extra={k: v for k, v in support.items()
                           if _kind(k) in needs and k != 'frames'},
            query_extra={k: v for k, v in query.items()
                         if _kind(k) in needs and k != 'frames'})

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'head',
                     data_samples: Optional[SampleList] = None,
                     test_mode: bool = False) -> Tuple[object, dict]:
        """Encode an episode batch, then build its :class:`Episode`.

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]`` with ``V = N*(K+Q)``.
            stage (str): ``'backbone'`` returns the ``[B, V, T, D]`` frame
                features; ``'head'`` the :class:`Episode`. Defaults to
                'head'.
            data_samples (list[ActionDataSample]): One per episode; their
                metainfo gives N, K and Q.
            test_mode (bool): Unused; kept for MMAction2 parity.

        Returns:
            tuple: ``(feats, {})``; ``feats`` is the ``[B, V, T, D]`` frame
            features for ``stage='backbone'``, else the :class:`Episode`.
        """
        feats = self.encode_videos(inputs)
        if stage == 'backbone':
            return feats['frames'], {}
        return self.build_episode(feats, data_samples), {}

    def predict_from_features(self, feats: Union[Tensor, VideoFeatures],
                              data_samples: SampleList) -> SampleList:
        """Predict episodes from the features of their videos.

        The prediction path shared by :meth:`predict`, the cached
        evaluation loops and the analysis tools.

        Args:
            feats (Tensor | dict[str, Tensor]): ``[B, V, T, D]`` frame
                features, or a dict of them by kind (:meth:`encode_videos`).
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            list[ActionDataSample]: With ``pred_score`` ``[N*Q, N]`` and
            ``pred_label`` ``[N*Q]``.
        """
        return self.cls_head.predict(
            self.build_episode(feats, data_samples), data_samples)

    def loss(self, inputs: Tensor, data_samples: SampleList,
             **kwargs) -> dict:
        """Losses of a batch of episodes.

        Args:
            inputs (Tensor): ``[B, V, T, C, H, W]``.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            dict: Loss terms (``loss_*``) and logged values.
        """
        episode, _ = self.extract_feat(inputs, data_samples=data_samples)
        return self.cls_head.loss(episode)

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
        return self.predict_from_features(
            self.encode_videos(inputs), data_samples)

    def _forward(self, inputs: Tensor, stage: str = 'backbone',
                 **kwargs) -> Tensor:
        """Frame features ``[B, V, T, D]`` (``mode='tensor'``)."""
        feats, _ = self.extract_feat(inputs, stage='backbone')
        return feats


def _by_kind(feats: Union[Tensor, VideoFeatures]) -> VideoFeatures:
    """``{'frames': feats}`` for a tensor, else the dict itself."""
    if isinstance(feats, Tensor):
        return dict(frames=feats)
    if 'frames' not in feats:
        raise ValueError('Episode features need the pooled frame features '
                         f"('frames'), got kinds {sorted(feats)}.")
    return dict(feats)


def _kind(key: str) -> str:
    """The kind of a feature key: ``'tokens/-1'`` -> ``'tokens'``."""
    return key.split('/', 1)[0]


def _has_kind(feats: VideoFeatures, kind: str) -> bool:
    return any(_kind(key) == kind for key in feats)
