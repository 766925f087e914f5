# Copyright (c) m2df_mmaction contributors.
"""TS-FSAR's few-shot head (Long, Zhang et al., AAAI 2026)."""
import copy
from typing import Dict, FrozenSet, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from ..layers.alpha_dcov import AlphaDistanceCovariance
from ..layers.ladder_side_network import SideAttention
from ..layers.similarity import cos_sim
from .base_few_shot_head import (BaseFewShotHead, class_prototypes,
                                 require_training_outputs)

__all__ = ['TSFSARHead', 'FrameAttentionAdapter']

TOKENS = 'tokens/-1'


class FrameAttentionAdapter(nn.Module):
    """Self-attention over a video's frames, mixed into its input:
    ``(2 - r) x + r Attn(LN(x))`` (TS-FSAR ``trainers/model.py`` ``Adapter``,
    ``r = DATA.RES_ALPHA``; 8 heads, q/k/v biases).

    Args:
        embed_dims (int): Channels ``D``.
        num_heads (int): Heads. Defaults to 8.
        res_alpha (float): ``r``. Defaults to 1.6.
    """

    def __init__(self, embed_dims: int, num_heads: int = 8,
                 res_alpha: float = 1.6) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(embed_dims)
        self.attn = SideAttention(embed_dims, num_heads)
        self.res_alpha = res_alpha

    def forward(self, x: Tensor) -> Tensor:
        """``[..., T, D]`` -> ``[..., T, D]``."""
        lead = x.shape[:-2]
        y = x.flatten(0, -3) if x.dim() > 3 else x
        y = (2.0 - self.res_alpha) * y + self.res_alpha * self.attn(
            self.norm(y))
        return y.reshape(*lead, *y.shape[-2:])


@MODELS.register_module()
class TSFSARHead(BaseFewShotHead):
    """TS-DCM matching, GLAC guidance and the fused test-time prediction.

    yaozhang0417/TS-FSAR ``trainers/ts_fsar.py`` (``TS_DCM``, ``TS_FSAR``).
    From the side tokens ``[B, V, T, 1+P, C]`` (:class:`OpenCLIPSide`) and
    the frozen CLIP image embeddings ``[B, V, T, D]``:

    1. **α-distance correlation frames.** Each frame's patch tokens,
       weighted by their cosine to its class token, give an α-distance
       covariance ``R = C (C+1) / 2`` vector
       (:class:`AlphaDistanceCovariance`).
    2. **TS-DCM.** Class prototypes are the shot means ``[B, N, T, R]``; the
       frame-to-frame cosines (``ε = 0.01``) ``[B, M, N, T, T]`` are summed
       with a task-specific matching matrix ``generator(q̄ + s̄)`` ``[T·T]``
       (``q̄``: the query's mean side class token, ``s̄``: the mean over all
       support frames): the vision logits ``[B, M, N]``, trained with
       cross-entropy (``VIS_ALPHA``).
    3. **GLAC** (training, every support and query video against its global
       class): a linear classifier on the temporal mean of the α-DC frames
       (``loss_side_cls``, ``CLS_ALPHA``); the frozen CLIP embeddings through
       a frame-attention adapter, temporal mean, cosine to the class texts
       × ``temp_clip`` (``loss_clip_text``, ``KD_ALPHA``); the side class
       tokens through ``up_ln``/``up_linear``, the same against the texts ×
       ``temp_side`` (``loss_side_text``, ``SIDE_CLS_ALPHA``); KL
       distillation of the CLIP-text logits into the classifier's
       (``loss_kd``, ``KD_ALPHA``, ``KD_T``).
    4. **Test.** ``softmax(vision)^a · softmax(clip-text)^b ·
       softmax(side-text)^c`` (``TEST.FUSE_VISION/CLIP/SIDE``) against the
       episode's class texts: the logits are its log, ``a log p_v + b log
       p_c + c log p_s``. With ``fuse=None`` the vision logits alone.

    Class texts come from the text encoder: TS-FSAR embeds each class's
    description sentences (``OpenCLIPText(descriptions=...)``), so its test
    protocol reads the test classes' descriptions.

    Args:
        embed_dims (int): ``D``, the frozen CLIP embedding (from the
            encoder).
        side_dims (int): ``C``, the side tokens' width (from the encoder).
        text_dims (int, optional): Text embedding size; must equal ``D``.
        num_frames (int): ``T``. Defaults to 8.
        num_classes (int): Training classes (``TRAIN.NUM_CLASSES``).
        dc_alpha (float): ``TRAIN.DC_ALPHA``. Defaults to 0.4.
        res_alpha (float): ``DATA.RES_ALPHA``. Defaults to 1.6.
        temp_clip (float): ``TEMP_CLIP``. Defaults to 100.
        temp_side (float): ``TEMP_SIDE``. Defaults to 100.
        dropout (float): ``LSN.DROPOUT`` before the classifier.
        loss_side_cls, loss_clip_text, loss_side_text (dict, optional): CE
            losses with weights ``CLS_ALPHA``, ``KD_ALPHA``,
            ``SIDE_CLS_ALPHA``; None drops the term.
        loss_kd (dict, optional): :class:`DistillKLLoss` (``KD_ALPHA``,
            ``KD_T``); None drops it.
        fuse (dict, optional): Test exponents ``vision``, ``clip``,
            ``side``; None: vision logits only.
        loss_cls (dict): The vision loss (``VIS_ALPHA``).
        init_cfg (dict, optional): Initialisation config.
    """

    token_layers = (-1, )

    def __init__(self,
                 embed_dims: int,
                 side_dims: int,
                 text_dims: Optional[int] = None,
                 num_frames: int = 8,
                 num_classes: int = 64,
                 dc_alpha: float = 0.4,
                 res_alpha: float = 1.6,
                 temp_clip: float = 100.0,
                 temp_side: float = 100.0,
                 dropout: float = 0.0,
                 loss_side_cls: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=2.0),
                 loss_clip_text: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=0.01),
                 loss_side_text: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=4.0),
                 loss_kd: Optional[dict] = dict(
                     type='DistillKLLoss', temperature=4.0, loss_weight=0.01),
                 fuse: Optional[dict] = dict(vision=0.5, clip=0.1, side=0.4),
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(loss_cls=loss_cls, init_cfg=init_cfg)
        if text_dims is not None and text_dims != embed_dims:
            raise ValueError(
                f'TSFSARHead: the text embeddings ({text_dims}) and the CLIP '
                f'image embeddings ({embed_dims}) must have one size: both '
                'towers must come from the same CLIP.')
        if fuse is not None and set(fuse) != {'vision', 'clip', 'side'}:
            raise ValueError("TSFSARHead: fuse needs the exponents 'vision', "
                             f"'clip' and 'side', got {sorted(fuse)}.")
        self.embed_dims, self.side_dims = embed_dims, side_dims
        self.num_frames, self.num_classes = num_frames, num_classes
        self.temp_clip, self.temp_side = temp_clip, temp_side
        self.fuse = dict(fuse) if fuse is not None else None
        self.alpha_dc = AlphaDistanceCovariance(dc_alpha)
        self.generator = nn.Linear(side_dims, num_frames**2, bias=False)
        self.classifier = nn.Linear(
            AlphaDistanceCovariance.output_dims(side_dims), num_classes,
            bias=False)
        self.dropout = nn.Dropout(dropout)
        self.clip_adapter = FrameAttentionAdapter(
            embed_dims, res_alpha=res_alpha)
        self.up_ln = nn.LayerNorm(side_dims)
        self.up_linear = nn.Linear(side_dims, embed_dims, bias=False)
        build = (lambda c: MODELS.build(copy.deepcopy(c))
                 if c is not None else None)
        self.loss_side_cls = build(loss_side_cls)
        self.loss_clip_text = build(loss_clip_text)
        self.loss_side_text = build(loss_side_text)
        self.loss_kd = build(loss_kd)

    @property
    def _text_losses(self) -> bool:
        return self.loss_clip_text is not None or \
            self.loss_side_text is not None or self.loss_kd is not None

    @property
    def needs(self) -> FrozenSet[str]:
        """Frames and side tokens; in training the class ids (+ every
        class's text for the text losses); in evaluation the episode's
        class texts when predictions fuse them."""
        needs = {'frames', 'tokens'}
        if self.training:
            needs.add('class_ids')
            if self._text_losses:
                needs.add('class_text')
        elif self.fuse is not None:
            needs.add('text')
        return frozenset(needs)

    @torch.no_grad()
    def init_from_encoder(self, encoder: nn.Module) -> None:
        """Shrink the last CLIP block's attention into the frame adapter's
        by PCA (official ``prune_and_initialize``, ``i == NUM_LAYERS - 1``)."""
        blocks = getattr(getattr(getattr(encoder, 'visual', None),
                                 'transformer', None), 'resblocks', None)
        if blocks is not None:
            self.clip_adapter.attn.init_from(blocks[-1].attn)

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Score queries; see the class docstring.

        Returns:
            dict[str, Tensor]: ``logits`` ``[B, M, N]`` (vision logits in
            training; the fused log-probabilities in evaluation with
            ``fuse``), ``vision_logits`` ``[B, M, N]``, ``frame_similarity``
            ``[B, M, N, T, T]``; in evaluation with ``fuse``
            ``clip_logits``/``side_logits`` ``[B, M, N]``; in training
            ``video_logits``, ``clip_text_logits``, ``side_text_logits``
            ``[B, N*K + M, C]`` (supports, then queries).
        """
        n, nk = episode.num_ways, episode.support.shape[1]
        tokens = episode.extra(TOKENS)
        tokens = torch.cat([tokens['support'], tokens['query']], dim=1)
        frames = torch.cat([episode.support, episode.query], dim=1)
        cls, patches = tokens[..., 0, :], tokens[..., 1:, :]
        weight = F.cosine_similarity(cls.unsqueeze(-2), patches, dim=-1)
        adc = self.alpha_dc((weight.unsqueeze(-1) * patches).transpose(-1, -2))
        protos = class_prototypes(adc[:, :nk], n)  # [B, N, T, R]
        similarity = cos_sim(adc[:, nk:].unsqueeze(2), protos.unsqueeze(1))
        task = cls[:, nk:].mean(2) + cls[:, :nk].mean((1, 2)).unsqueeze(1)
        matching = self.generator(task)  # [B, M, T*T]
        vision = (similarity.flatten(-2) * matching.unsqueeze(2)).sum(-1)
        outputs = dict(logits=vision, vision_logits=vision,
                       frame_similarity=similarity)
        if self.training:
            outputs['video_logits'] = self.classifier(
                self.dropout(adc.mean(2)))
            if self._text_losses:
                text = F.normalize(episode.require('class_text'), dim=-1)
                outputs['clip_text_logits'] = self._clip_embed(frames) @ \
                    text.t().to(frames.dtype) * self.temp_clip
                outputs['side_text_logits'] = self._side_embed(cls) @ \
                    text.t().to(cls.dtype) * self.temp_side
        elif self.fuse is not None:
            text = F.normalize(episode.require('text'), dim=-1)
            clip = self._clip_embed(frames[:, nk:]).unsqueeze(2) @ \
                text.unsqueeze(1).transpose(-1, -2).to(frames.dtype)
            side = self._side_embed(cls[:, nk:]).unsqueeze(2) @ \
                text.unsqueeze(1).transpose(-1, -2).to(cls.dtype)
            outputs['clip_logits'] = clip.squeeze(2) * self.temp_clip
            outputs['side_logits'] = side.squeeze(2) * self.temp_side
            outputs['logits'] = sum(
                self.fuse[k] * outputs[f'{k}_logits'].float().log_softmax(-1)
                for k in ('vision', 'clip', 'side'))
        return outputs

    def _clip_embed(self, frames: Tensor) -> Tensor:
        """``[B, V, T, D]`` frozen CLIP frames -> unit ``[B, V, D]``."""
        return F.normalize(self.clip_adapter(frames).mean(2), dim=-1)

    def _side_embed(self, cls: Tensor) -> Tensor:
        """``[B, V, T, C]`` side class tokens -> unit ``[B, V, D]``."""
        return F.normalize(self.up_linear(self.up_ln(cls)).mean(2), dim=-1)

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """The GLAC terms, over every support and query video."""
        terms = dict(loss_side_cls=(self.loss_side_cls, 'video_logits'),
                     loss_clip_text=(self.loss_clip_text, 'clip_text_logits'),
                     loss_side_text=(self.loss_side_text, 'side_text_logits'))
        terms = {k: v for k, v in terms.items() if v[0] is not None}
        if not terms and self.loss_kd is None:
            return {}
        needed = tuple(key for _, key in terms.values())
        if self.loss_kd is not None:
            needed += ('video_logits', 'clip_text_logits')
        require_training_outputs(self, outputs, tuple(dict.fromkeys(needed)),
                                 'GLAC losses')
        if episode.num_classes is not None and \
                episode.num_classes > self.num_classes:
            raise ValueError(
                f'TSFSARHead: the episodes come from {episode.num_classes} '
                f'classes and the classifier has num_classes='
                f'{self.num_classes} (official TRAIN.NUM_CLASSES): set the '
                'head option num_classes to the number of training classes.')
        labels = torch.cat(
            [episode.support_class_ids(),
             episode.query_class_ids()], dim=1).flatten()
        losses = {
            name: loss(outputs[key].flatten(0, 1).float(), labels)
            for name, (loss, key) in terms.items()
        }
        if self.loss_kd is not None:
            losses['loss_kd'] = self.loss_kd(
                outputs['video_logits'].flatten(0, 1),
                outputs['clip_text_logits'].flatten(0, 1))
        return losses
