# Copyright (c) m2df_mmaction contributors.
"""HyRSM (Wang et al., CVPR 2022) and HyRSM++ (Wang et al., 2023) as one
head."""
import copy
from typing import Dict, FrozenSet, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from m2df_mmaction.structures import Episode
from .base_few_shot_head import (BaseFewShotHead, MatchView,
                                 class_prototypes, require_training_outputs)

__all__ = ['HyRSMHead']


@MODELS.register_module()
class HyRSMHead(BaseFewShotHead):
    """HyRSM / HyRSM++ head: hybrid relation module, Bi-MHM set matching,
    a frame-level auxiliary classifier and (HyRSM++) temporal coherence.

    Official code: ``CNN_HyRSM_1shot`` / ``CNN_HyRSM_5shot``
    (alibaba-mmai-research/HyRSM ``models/base/few_shot.py`` L652–752 /
    L753–865) and ``CNN_HyRSM_plusplus_1shot`` / ``_5shot``
    (alibaba-mmai-research/HyRSMPlusPlus, same file, L865–1006 /
    L1007–1155); the loss assembly in ``runs/train_net_few_shot.py``
    L108–113. Per episode:

    1. Every video's frames go through the relation's intra-video step
       (:class:`HybridRelation`: positional encoding, pre-norm frame
       self-attention, ReLU).
    2. The auxiliary classifier (``USE_CLASSIFICATION``) scores **every
       frame** of every support and query among the ``num_classes``
       training classes (official ``classification_layer``, the
       ``USE_LOCAL`` loss: each video's class id repeated ``T`` times).
    3. The inter-video step relates each query to ``n`` supports: with
       ``prototype_before_relation=False`` (official ``*_1shot`` classes)
       to the ``N*K`` support videos, with ``True`` (``*_5shot`` classes)
       to the ``N`` class prototypes (mean over shots of the intra-related
       supports). This is the one difference between the two official
       classes; at K = 1 both give the same numbers up to the order of
       summation.
    4. Bi-MHM (:class:`BiMHM`) on ``1 - cos`` of the L2-normalised frames
       of each query and each (query-conditioned) support; per-support
       distances are averaged over the shots of a class (only at K > 1
       without prototypes); ``logits = -s * d`` (official ``s = 1``).
    5. HyRSM++: the temporal-coherence loss (:class:`TemporalCoherenceLoss`)
       on the intra-video frame distances of the query-conditioned supports
       and of the queries.

    Differences between the official variants, as options here:

    ======================  =========================  ====================
    official                ``HyRSM``                  ``HyRSM++``
    ======================  =========================  ====================
    classifier built        always (even if unused)    with the CLS loss
    temporal loss           none                       ``loss_temporal``
    positional encoding     ``POSITION_A/B`` or 10, 1  the same
    ======================  =========================  ====================

    The official training divides its total by ``TRAIN.BATCH_SIZE`` (4);
    here that is the optimizer wrapper's accumulation.

    Args:
        embed_dims (int): Frame feature dim ``D`` (filled in from the
            encoder; officially 2048 for a ResNet-50, else 512).
        relation (dict): :class:`HybridRelation` config (``embed_dims``
            filled in). PE ``TRAIN.POSITION_A/B``: HyRSM K100
            ``a_scale=2048, b_scale=0.01``; HyRSM++ HMDB51 ``a_scale=50``;
            otherwise the defaults 10 and 1.
        prototype_before_relation (bool): Relate queries to class
            prototypes instead of support videos (the official ``*_5shot``
            classes, which every published yaml with K > 1 names).
            Defaults to False (the ``*_1shot`` classes, named by the 1-shot
            yamls). Without prototypes at K > 1 the Bi-MHM view's
            ``frame_distances`` are per shot, ``[B, M, N, K, Tq, Ts]``.
        bimhm (dict): Set-matching layer config. Defaults to ``BiMHM``.
        num_classes (int): Training classes of the auxiliary classifier
            (``TRAIN.NUM_CLASS``: 64 SSv2-Full / SSv2-Small / Kinetics-100,
            70 UCF101, 31 HMDB51). Defaults to 64.
        loss_frame_cls (dict, optional): The auxiliary frame-level
            classification loss; its weight is ``USE_CLASSIFICATION_VALUE``
            (HyRSM: SSv2-Full 0.6, K100 0.4, SSv2-Small / UCF101 / HMDB51
            0.15; HyRSM++: 0.6, 0.1, 0.2, 0.6, 0.15). None turns the
            classifier off (the official code then fails: its CE without
            ``USE_LOCAL`` does not fit the frame-level logits).
        loss_temporal (dict, optional): HyRSM++'s temporal-coherence loss
            (``TemporalCoherenceLoss``); None (HyRSM) turns it off.
        init_scale (float): Logit scale ``s``. Defaults to 1 (official).
        learnable_scale (bool): Learn ``log s``. Defaults to False.
        loss_cls (dict): Classification loss on the logits.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 relation: dict = dict(type='HybridRelation'),
                 prototype_before_relation: bool = False,
                 bimhm: dict = dict(type='BiMHM'),
                 num_classes: int = 64,
                 loss_frame_cls: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=0.6),
                 loss_temporal: Optional[dict] = None,
                 init_scale: float = 1.0,
                 learnable_scale: bool = False,
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            loss_cls=loss_cls,
            init_scale=init_scale,
            learnable_scale=learnable_scale,
            init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.prototype_before_relation = prototype_before_relation
        relation = copy.deepcopy(relation)
        relation.setdefault('embed_dims', embed_dims)
        self.relation = MODELS.build(relation)
        self.bimhm = MODELS.build(bimhm)
        self.num_classes = num_classes
        if loss_frame_cls is not None:
            self.frame_classifier = nn.Linear(embed_dims, num_classes)
            self.loss_frame_cls = MODELS.build(loss_frame_cls)
        else:
            self.frame_classifier = self.loss_frame_cls = None
        self.loss_temporal = MODELS.build(loss_temporal) \
            if loss_temporal is not None else None

    @property
    def needs(self) -> FrozenSet[str]:
        """Frames; with the auxiliary classifier the global class ids."""
        if self.loss_frame_cls is None:
            return frozenset({'frames'})
        return frozenset({'frames', 'class_ids'})

    def match_views(self) -> Dict[str, MatchView]:
        """One view: Bi-MHM on ``frame_distances``."""
        return dict(bimhm=MatchView(self.bimhm, 'frame_distances',
                                    'distances'))

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Score queries; see the class docstring.

        Returns:
            dict[str, Tensor]: ``logits`` and ``distances`` ``[B, M, N]``;
            ``frame_distances`` ``[B, M, N, Tq, Ts]`` (``1 - cos`` of the
            query frames by the frames of the query-conditioned prototype,
            or support at K = 1), or ``[B, M, N, K, Tq, Ts]`` for
            per-support relations at K > 1 (the Bi-MHM input). In
            training: ``frame_logits`` ``[B, N*K + M, T, C]`` (supports,
            then queries) with the classifier, and ``support_relation``
            ``[B, M, n, T, D]`` / ``query_relation`` ``[B, M, T, D]`` with
            the temporal loss.
        """
        num_ways, num_shots = episode.num_ways, episode.num_shots
        support = self.relation.intra_video(episode.support)
        query = self.relation.intra_video(episode.query)
        outputs = {}
        if self.frame_classifier is not None and self.training:
            outputs['frame_logits'] = self.frame_classifier(
                torch.cat([support, query], dim=1))
        if self.prototype_before_relation:
            support = class_prototypes(support, num_ways)
        support, query = self.relation.inter_video(support, query)
        if self.loss_temporal is not None and self.training:
            outputs.update(support_relation=support, query_relation=query)
        # [B, M, n, Tq, Ts]
        frame_dists = 1 - F.normalize(query, dim=-1).unsqueeze(2) @ \
            F.normalize(support, dim=-1).transpose(-1, -2)
        if not self.prototype_before_relation and num_shots > 1:
            frame_dists = frame_dists.unflatten(2, (num_ways, num_shots))
        distances = self.bimhm(frame_dists.float())
        if distances.dim() == 4:  # [B, M, N, K]: mean over the shots
            distances = distances.mean(-1)
        outputs.update(
            logits=-self.logit_scale * distances,
            distances=distances,
            frame_distances=frame_dists)
        return outputs

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """``loss_frame_cls`` (every frame of supports and queries against
        its video's global class id) and ``loss_temporal``, if enabled."""
        losses = {}
        if self.loss_frame_cls is not None:
            require_training_outputs(self, outputs, ('frame_logits', ),
                                     'loss_frame_cls')
            if episode.num_classes is not None and \
                    episode.num_classes > self.num_classes:
                raise ValueError(
                    f'HyRSMHead: the episodes come from {episode.num_classes}'
                    f' classes and the auxiliary classifier has '
                    f'num_classes={self.num_classes} (official '
                    'TRAIN.NUM_CLASS): set the head option num_classes to '
                    'the number of training classes.')
            frame_logits = outputs['frame_logits']
            labels = torch.cat(
                [episode.support_class_ids(),
                 episode.query_class_ids()], dim=1)  # [B, N*K + M]
            labels = labels.unsqueeze(-1).expand(frame_logits.shape[:-1])
            losses['loss_frame_cls'] = self.loss_frame_cls(
                frame_logits.flatten(0, 2).float(), labels.flatten())
        if self.loss_temporal is not None:
            require_training_outputs(
                self, outputs, ('support_relation', 'query_relation'),
                'loss_temporal')
            losses['loss_temporal'] = self.loss_temporal(
                outputs['support_relation'], outputs['query_relation'])
        return losses
