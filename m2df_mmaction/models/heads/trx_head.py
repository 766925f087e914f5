# Copyright (c) m2df_mmaction contributors.
"""TRX (Perrett et al., CVPR 2021): temporal-relational cross transformers."""
import copy
from typing import Dict, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from .base_few_shot_head import BaseFewShotHead, MatchView

__all__ = ['TRXHead']


@MODELS.register_module()
class TRXHead(BaseFewShotHead):
    """TRX head: one :class:`TemporalCrossTransformer` per tuple
    cardinality, ``logits = -s * mean over cardinalities of the
    distances`` (official ``CNN_TRX``, alibaba-mmai-research/MoLo
    ``models/base/few_shot.py`` L1330-1355, at ``f7f73b6``), with ``s``
    fixed at 1 as officially (no logit scale).

    Reads pooled frame features only (``needs = {'frames'}``).

    Explanation: TRX does not align frames one to one; each view (one per
    cardinality, named ``'tuples<s>'``) shows where the query's tuples
    attended, spread onto frame pairs
    (:meth:`TemporalCrossTransformer.frame_attention`: ``soft`` = each query
    frame's attention over the class's support frames, summed over shots;
    ``path`` = the most attended pairs, :meth:`TemporalCrossTransformer.
    explain`).

    Args:
        embed_dims (int): Frame feature dim ``D`` (filled in from the
            encoder by the recognizer).
        num_frames (int): Frames per video ``T``, as the pipeline samples
            them. Defaults to 8 (every official yaml).
        cardinalities (Sequence[int]): Tuple sizes, one transformer each
            (official ``temp_set = [2, 3]``, hard-coded in ``CNN_TRX``,
            L1339). Each must be at most ``num_frames``. Defaults to
            ``(2, 3)``.
        transformer (dict): :class:`TemporalCrossTransformer` config
            without ``embed_dims``, ``num_frames`` and ``cardinality``
            (filled in here). Defaults to the official values: ``out_dims``
            1152, ``pe_scale`` 0.1, ``pe_length`` ``int(1.5 * T)``,
            ``dropout`` 0.1.
        **kwargs: See :class:`BaseFewShotHead` (``loss_cls``,
            ``init_scale``, ``learnable_scale``, ``init_cfg``).

    Raises:
        ValueError: No cardinalities, a repeated one, or one larger than
            ``num_frames`` (when the model is built).
    """

    def __init__(self,
                 embed_dims: int,
                 num_frames: int = 8,
                 cardinalities: Sequence[int] = (2, 3),
                 transformer: dict = dict(
                     type='TemporalCrossTransformer',
                     out_dims=1152,
                     pe_scale=0.1,
                     pe_length=None,
                     dropout=0.1),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        cardinalities = tuple(cardinalities)
        if not cardinalities or len(set(cardinalities)) != len(cardinalities):
            raise ValueError(
                f'TRXHead: cardinalities={cardinalities} must name at least'
                ' one tuple size, each once (official: (2, 3)).')
        too_large = [s for s in cardinalities if s > num_frames]
        if too_large:
            raise ValueError(
                f'TRXHead: cardinalities {too_large} are larger than '
                f'num_frames={num_frames} (T): no tuple of that many '
                'ordered frames exists in a video of T frames. Use '
                f'cardinalities <= {num_frames} (official: (2, 3)) or '
                "sample more frames (the pipeline's num_clips/clip_len and "
                "the head's num_frames).")
        self.cardinalities = cardinalities
        self.num_frames = num_frames
        self.transformers = nn.ModuleList()
        for size in cardinalities:
            cfg = copy.deepcopy(transformer)
            cfg.update(
                embed_dims=embed_dims, num_frames=num_frames,
                cardinality=size)
            self.transformers.append(MODELS.build(cfg))

    def match_views(self) -> Dict[str, MatchView]:
        """One view per cardinality ``s``: ``'tuples<s>'``, the tuple
        attention spread onto frame pairs (``frame_attention_<s>``; larger
        = more attended, not a distance) and the distance
        ``distance_<s>``."""
        return {
            f'tuples{s}': MatchView(layer, f'frame_attention_{s}',
                                    f'distance_{s}')
            for s, layer in zip(self.cardinalities, self.transformers)
        }

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """See :meth:`BaseFewShotHead.score`.

        Returns:
            dict: ``logits`` ``[B, M, N]``; per cardinality ``s``:
            ``distance_<s>`` ``[B, M, N]`` (mean squared distance of the
            query's tuples to their query-specific prototypes; official
            per-cardinality logits = its negative), ``tuple_attention_<s>``
            ``[B, M, N, P, K*P]`` (each query tuple's softmax over the
            class's support tuples, shot-major columns; the tuples are
            ``transformers[i].tuples``) and ``frame_attention_<s>``
            ``[B, M, N, T, T]`` (that attention on frame pairs, rows
            summing to 1, no gradient).
        """
        outputs, distances = {}, []
        for size, layer in zip(self.cardinalities, self.transformers):
            out = layer(episode.support, episode.query, episode.num_ways)
            outputs[f'distance_{size}'] = out['distances']
            outputs[f'tuple_attention_{size}'] = out['attention']
            outputs[f'frame_attention_{size}'] = layer.frame_attention(
                out['attention'])
            distances.append(out['distances'])
        outputs['logits'] = -self.logit_scale * torch.stack(
            distances, -1).mean(-1)
        return outputs
