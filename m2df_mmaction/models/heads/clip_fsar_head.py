# Copyright (c) m2df_mmaction contributors.
"""CLIP-FSAR (Wang et al., IJCV 2023): the baseline CLIP-M2DF extends."""
import copy
from typing import Dict, FrozenSet, Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from ..layers import pairwise_cos_sim
from .base_few_shot_head import (BaseFewShotHead, MatchView,
                                 class_prototypes, require_training_outputs)

__all__ = ['CLIPFSARHead']


@MODELS.register_module()
class CLIPFSARHead(BaseFewShotHead):
    """CLIP-FSAR head (docs/method.md §2.2).

    - Each support video's frames plus its class's text token go through a
      temporal transformer (self-attention over ``T + 1`` tokens, no
      positional encoding; the text token's output is dropped); queries go
      through the same transformer without text.
    - Prototypes are the mean over shots, after the transformer, or before
      it with ``merge_before`` (the official 5-shot configs).
    - Bidirectional OTAM on ``1 - cos`` of the frame tokens;
      ``logits = -d``.
    - The video-text loss: ``cos(temporal mean of the raw frames, text of
      every training class) * s`` against the global class ids of supports
      and queries, weighted per dataset (3.0 SSv2, 1.5 K100/UCF, 1.2 HMDB).

    The transformer is :class:`CrossTransformerFusion` with the text token
    as its prompt and the frames as both streams: without positional
    encoding the token order does not matter, so this is exactly the
    official self-attention over ``[frames; text]``.

    Args:
        embed_dims (int): Frame feature dim ``D``.
        text_dims (int, optional): Text dim, if it differs from ``D``; a
            learned projection then maps it to ``D``. Defaults to None.
        transformer (dict): Transformer config. Defaults to one pre-norm
            block with 8 heads (``CrossTransformerFusion`` defaults).
        merge_before (bool): Average supports (frames and text) per class
            before the transformer. Defaults to False.
        otam (dict): Alignment config.
        init_scale (float): Scale ``s`` of the logits ``-s * d``. Defaults
            to 1 (as the official code).
        learnable_scale (bool): Learn ``log s``. Defaults to False.
        loss_cls (dict): Classification loss on the logits.
        loss_video_text (dict, optional): Video-text loss; None turns it
            off. Defaults to ``VideoTextLoss`` with weight 3.0 (SSv2).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 text_dims: Optional[int] = None,
                 transformer: dict = dict(type='CrossTransformerFusion'),
                 merge_before: bool = False,
                 otam: dict = dict(type='OTAM', lbda=0.5, bidirectional=True),
                 init_scale: float = 1.0,
                 learnable_scale: bool = False,
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 loss_video_text: Optional[dict] = dict(
                     type='VideoTextLoss', loss_weight=3.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            loss_cls=loss_cls,
            init_scale=init_scale,
            learnable_scale=learnable_scale,
            init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.merge_before = merge_before
        self.text_proj = nn.Linear(text_dims, embed_dims) \
            if text_dims not in (None, embed_dims) else nn.Identity()
        transformer = copy.deepcopy(transformer)
        transformer.setdefault('embed_dims', embed_dims)
        self.transformer = MODELS.build(transformer)
        self.otam = MODELS.build(otam)
        self.loss_video_text = MODELS.build(loss_video_text) \
            if loss_video_text is not None else None

    @property
    def needs(self) -> FrozenSet[str]:
        """Frames and the episode's class text; with the video-text loss,
        the text of every class and the global class ids too."""
        needs = {'frames', 'text'}
        if self.loss_video_text is not None:
            needs |= {'class_text', 'class_ids'}
        return frozenset(needs)

    def match_views(self) -> Dict[str, MatchView]:
        """One view: the OTAM layer on ``frame_distances``."""
        return dict(otam=MatchView(self.otam, 'frame_distances', 'distances'))

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Score queries; see the class docstring.

        Returns:
            dict[str, Tensor]: ``logits`` and ``distances`` ``[B, N*Q, N]``,
            ``frame_distances`` ``[B, N*Q, N, T, T]`` (the OTAM input, query
            frames by prototype frames), plus, in training with the
            video-text loss, ``videos`` ``[B, N*(K+Q), D]`` and the
            projected ``class_text``.
        """
        support, query, num_ways = episode.support, episode.query, \
            episode.num_ways
        class_text = episode.class_text
        text = self.text_proj(episode.text).to(support.dtype)
        if self.merge_before:
            protos = self.transformer(
                class_prototypes(support, num_ways),
                class_prototypes(support, num_ways), text)[..., 1:, :]
        else:
            support_text = text.repeat_interleave(episode.num_shots, dim=1)
            protos = class_prototypes(
                self.transformer(support, support, support_text)[..., 1:, :],
                num_ways)
        queries = self.transformer(query, query)
        frame_dists = 1 - pairwise_cos_sim(queries, protos)
        distances = self.otam(frame_dists.float())
        outputs = dict(
            logits=-self.logit_scale * distances,
            distances=distances,
            frame_distances=frame_dists)
        if self.loss_video_text is not None and self.training:
            outputs['videos'] = torch.cat([support, query], dim=1).mean(2)
            outputs['class_text'] = self.text_proj(class_text)
        return outputs

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """``loss_video_text`` over supports and queries, if enabled."""
        if self.loss_video_text is None:
            return {}
        require_training_outputs(self, outputs, ('videos', 'class_text'),
                                 'loss_video_text')
        # per episode its supports, then its queries: [B, N*K + M]
        labels = torch.cat(
            [episode.support_class_ids(),
             episode.query_class_ids()], dim=1)
        return dict(
            loss_video_text=self.loss_video_text(
                outputs['videos'].flatten(0, 1), outputs['class_text'],
                labels.flatten()))
