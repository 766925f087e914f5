# Copyright (c) m2df_mmaction contributors.
"""CLIP-M2DF: multi-view distillation based on multi-modal fusion."""
import copy
from typing import Dict, FrozenSet, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from ..layers import (PromptSelection, cos_sim, pairwise_cos_sim,
                      topk_frames)
from .base_few_shot_head import (BaseFewShotHead, MatchView,
                                 class_prototypes, require_training_outputs)

__all__ = ['M2DFHead']

VIEWS = ('local', 'global')
# Row of the fused sequence [prompt; frames] whose output gives the text
# confidence of the distillation.
_TEXT_TOKENS = dict(prompt=0, first_frame=1)


@MODELS.register_module()
class M2DFHead(BaseFewShotHead):
    """The CLIP-M2DF head (arXiv 2401.08345; docs/method.md §1.3).

    Per episode, with frame features ``F`` and class text embeddings
    ``e_k``:

    1. Prompts: each support video carries its class's text embedding
       ``p_s = e_{y_s}``; each query gets ``p_q`` from the
       :class:`ProbabilityPromptSelector`.
    2. Two views add temporal context ``C``: the local view
       (:class:`LocalTemporalContext`) and the global view
       (:class:`GlobalTemporalContext`).
    3. In each view, :class:`CrossTransformerFusion` attends from
       ``[p; C]`` to ``[p; F]`` and returns ``Y`` (``1 + T`` tokens; row 0 is
       the prompt token). Class prototypes are the mean of ``Y`` over shots.
    4. Bidirectional OTAM on ``1 - cos`` of the frame tokens ``Y[1:]``
       gives a distance ``d^v_{q,k}`` per view;
       ``logits = -(d^local + d^global)``.
    5. :class:`MutualDistillLoss` lets the more confident view teach the
       other, with visual confidence from ``softmax(-d)`` and text confidence
       from the cosine of the prompt tokens ``Y[0]`` (the token the paper
       means; the official code takes the first frame token instead:
       ``text_token='first_frame'``).

    Losses: ``loss_cls`` (λ1, CE on the fused logits), ``loss_distill`` (λ2)
    and, optionally, ``loss_video_text`` (λ0, the CLIP-FSAR video-text loss
    on the top-k frames of each video, against the text of every class of
    the training set; off in the official run scripts).

    At test time the prompt selector's draws are a function of
    ``(test_seed, episode_idx, query)`` (:meth:`select_prompts`), so
    predictions do not depend on the batch size, the number of workers or
    GPUs, the device or the evaluation loop.

    Args:
        embed_dims (int): Frame feature dim ``D``.
        text_dims (int, optional): Text embedding dim, if it differs from
            ``D`` (a non-CLIP visual backbone): a learned linear projection
            maps text to ``D``. Defaults to None (same dim, no projection).
        views (Sequence[str]): ``('local', 'global')`` (default) or one of
            them, for the single-view ablations.
        prompt_selector (dict): :class:`ProbabilityPromptSelector` config;
            ``mode='none'`` is the "no prompt selector" ablation.
        local_context (dict): Local view context extractor config.
        global_context (dict): Global view context extractor config.
        fusion (dict): Fusion config; each view builds its own copy (the
            views do not share weights).
        otam (dict): Alignment config. Defaults to bidirectional OTAM with
            λ = 0.5.
        topk (int): Frames per video for the video-text loss. Defaults to 4.
        text_token (str): Which output token gives the distillation's text
            confidence: ``'prompt'`` (row 0, the prompt token the paper
            means; default) or ``'first_frame'`` (row 1, what the official
            code takes: it drops the prompt row before indexing).
        loss_cls (dict): Classification loss (λ1).
        loss_distill (dict, optional): Distillation loss (λ2); None turns
            it off. Ignored with a single view.
        loss_video_text (dict, optional): Video-text loss (λ0). Defaults to
            None (off, as in the official run scripts).
        test_seed (int): Seed of the test-time prompt draws. Defaults to 0.
        init_scale (float): Scale ``s`` of the logits ``-s * (d_local +
            d_global)``. Defaults to 1 (the official code has none).
        learnable_scale (bool): Learn ``log s``. Defaults to False. A
            learnable scale (e.g. from 10) speeds up learning from a randomly
            initialised encoder, whose frame features are nearly identical at
            first (notes/learnability.md); the distillation always sees the
            unscaled distances.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 text_dims: Optional[int] = None,
                 views: Sequence[str] = VIEWS,
                 prompt_selector: dict = dict(
                     type='ProbabilityPromptSelector',
                     top_k=4,
                     temperature=200.0,
                     mode='sample'),
                 local_context: dict = dict(type='LocalTemporalContext'),
                 global_context: dict = dict(type='GlobalTemporalContext'),
                 fusion: dict = dict(type='CrossTransformerFusion'),
                 otam: dict = dict(type='OTAM', lbda=0.5, bidirectional=True),
                 topk: int = 4,
                 text_token: str = 'prompt',
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 loss_distill: Optional[dict] = dict(
                     type='MutualDistillLoss', loss_weight=1.0),
                 loss_video_text: Optional[dict] = None,
                 test_seed: int = 0,
                 init_scale: float = 1.0,
                 learnable_scale: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            loss_cls=loss_cls,
            init_scale=init_scale,
            learnable_scale=learnable_scale,
            init_cfg=init_cfg)
        views = tuple(views)
        if not views or any(v not in VIEWS for v in views) or \
                len(set(views)) != len(views):
            raise ValueError(f'views must be a non-empty subset of {VIEWS}, '
                             f'got {views}.')
        if text_token not in _TEXT_TOKENS:
            raise ValueError(f'text_token must be one of '
                             f'{tuple(_TEXT_TOKENS)}, got {text_token!r}')
        self.embed_dims = embed_dims
        self.views = views
        self.topk = topk
        self.text_token = text_token
        self.test_seed = test_seed
        self.text_proj = nn.Linear(text_dims, embed_dims) \
            if text_dims not in (None, embed_dims) else nn.Identity()
        self.prompt_selector = MODELS.build(prompt_selector)
        context_cfgs = {'local': local_context, 'global': global_context}
        self.contexts = nn.ModuleDict()
        self.fusions = nn.ModuleDict()
        for view in views:
            context = copy.deepcopy(context_cfgs[view])
            context.setdefault('in_channels', embed_dims)
            self.contexts[view] = MODELS.build(context)
            view_fusion = copy.deepcopy(fusion)
            view_fusion.setdefault('embed_dims', embed_dims)
            self.fusions[view] = MODELS.build(view_fusion)
        self.otam = MODELS.build(otam)
        self.loss_distill = MODELS.build(loss_distill) \
            if loss_distill is not None and len(views) == 2 else None
        self.loss_video_text = MODELS.build(loss_video_text) \
            if loss_video_text is not None else None

    @property
    def needs(self) -> FrozenSet[str]:
        """Frames, the episode's class text and the episode keys (the
        test-time prompt draws are keyed by them); with the video-text
        loss, the text of every class and the global class ids too."""
        needs = {'frames', 'text', 'keys'}
        if self.loss_video_text is not None:
            needs |= {'class_text', 'class_ids'}
        return frozenset(needs)

    def match_views(self) -> Dict[str, MatchView]:
        """Per view, the OTAM layer on ``frame_distances_<view>``."""
        return {
            view: MatchView(self.otam, f'frame_distances_{view}',
                            f'distance_{view}')
            for view in self.views
        }

    def select_prompts(self, query: Tensor, text: Tensor,
                       keys: Tensor) -> PromptSelection:
        """Query prompts; at test time a pure function of the episode.

        In training the draws come from torch's RNG (seeded per iteration by
        :class:`IterationSeedHook`). At test time query ``q`` of episode
        ``e`` (its key, ``episode_idx``) draws with the keyed uniform of
        ``(test_seed, e, q)`` (:func:`keyed_uniforms`), on the model's
        device and for all episodes at once: the same prediction whatever
        the batch size, loop, worker count or device.

        Args:
            query (Tensor): ``[B, NQ, T, D]``.
            text (Tensor): ``[B, N, D]``.
            keys (Tensor): ``[B]`` episode keys.

        Returns:
            PromptSelection: ``prompt`` ``[B, NQ, D]``, ``probs``
            ``[B, NQ, N]``, ``index`` ``[B, NQ]``.
        """
        if self.training:
            return self.prompt_selector(query, text)
        return self.prompt_selector(query, text, keys, self.test_seed)

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Fuse, align and score; see the class docstring.

        Returns:
            dict[str, Tensor]: ``logits`` ``[B, N*Q, N]``; per view ``v``,
            ``distance_v`` and ``text_similarity_v`` ``[B, N*Q, N]`` and
            ``frame_distances_v`` ``[B, N*Q, N, T, T]`` (the OTAM input);
            ``prompt_index`` ``[B, N*Q]`` (the class whose text prompted
            each query) and ``prompt_probs`` ``[B, N*Q, N]`` (the
            selector's class probabilities); and, for the video-text loss,
            ``support_video``/``query_video`` (top-k frame means) and the
            projected ``class_text``.
        """
        support, query, num_ways = episode.support, episode.query, \
            episode.num_ways
        text = self.text_proj(episode.text).to(support.dtype)
        support_prompt = text.repeat_interleave(episode.num_shots, dim=1)
        selection = self.select_prompts(query, text, episode.keys)
        query_prompt = selection.prompt.to(query.dtype)

        outputs = dict(
            prompt_index=selection.index, prompt_probs=selection.probs)
        logits = 0
        # Supports and queries go through each view together: one pass of
        # larger matrix products instead of two (every op is per video).
        videos = torch.cat([support, query], dim=1)
        prompts = torch.cat([support_prompt, query_prompt], dim=1)
        split = [support.shape[1], query.shape[1]]
        for view in self.views:
            context, fusion = self.contexts[view], self.fusions[view]
            fused_support, fused_query = fusion(context(videos), videos,
                                                prompts).split(split, dim=1)
            protos = class_prototypes(fused_support, num_ways)
            # [B, NQ, T, D] vs [B, N, T, D] -> [B, NQ, N, T, T]
            frame_dists = 1 - pairwise_cos_sim(fused_query[:, :, 1:],
                                               protos[:, :, 1:])
            distance = self.otam(frame_dists.float())
            outputs[f'distance_{view}'] = distance
            outputs[f'frame_distances_{view}'] = frame_dists
            row = _TEXT_TOKENS[self.text_token]
            outputs[f'text_similarity_{view}'] = cos_sim(
                fused_query[:, :, row], protos[:, :, row])
            logits = logits - distance
        outputs['logits'] = self.logit_scale * logits
        if self.loss_video_text is not None and self.training:
            outputs.update(
                self._video_text_inputs(episode, text, selection))
        return outputs

    def _video_text_inputs(self, episode: Episode, text: Tensor,
                           selection: PromptSelection) -> Dict[str, Tensor]:
        """Top-k frame means of every video and the class text."""
        support, query = episode.support, episode.query
        support_text = text.repeat_interleave(episode.num_shots, dim=1)
        argmax_text = text.gather(
            1,
            selection.probs.argmax(-1, keepdim=True).expand(
                -1, -1, text.shape[-1]))
        return dict(
            support_video=topk_frames(support, support_text,
                                      self.topk).mean(-2),
            query_video=topk_frames(query, argmax_text, self.topk).mean(-2),
            class_text=self.text_proj(episode.class_text))

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """``loss_distill`` (λ2) and ``loss_video_text`` (λ0), if enabled."""
        losses = {}
        if self.loss_distill is not None:
            losses['loss_distill'] = self.loss_distill(
                outputs['distance_local'], outputs['distance_global'],
                outputs['text_similarity_local'],
                outputs['text_similarity_global'])
        if self.loss_video_text is not None:
            require_training_outputs(
                self, outputs, ('support_video', 'query_video', 'class_text'),
                'loss_video_text')
            # per episode its supports, then its queries: [B, N*K + M]
            videos = torch.cat(
                [outputs['support_video'], outputs['query_video']], dim=1)
            labels = torch.cat(
                [episode.support_class_ids(),
                 episode.query_class_ids()], dim=1)
            losses['loss_video_text'] = self.loss_video_text(
                videos.flatten(0, 1), outputs['class_text'], labels.flatten())
        return losses
