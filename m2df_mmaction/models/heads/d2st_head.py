# Copyright (c) m2df_mmaction contributors.
"""D2ST-Adapter's few-shot head (Pei et al., ICCV 2025)."""
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

__all__ = ['D2STHead']


@MODELS.register_module()
class D2STHead(BaseFewShotHead):
    """Mean prototypes, Bi-MHM set matching and a video classifier.

    What D2ST-Adapter puts after its adapted encoder
    (qizhongtan/D2ST-Adapter ``models/base/adapter.py``, ``ViT_CLIP.forward``
    and ``ResNet.forward``; loss in ``runs/train_net_few_shot.py`` L62–64):

    1. class prototypes: the mean over the shots of each class's support
       frames ``[B, N, T, D]``;
    2. frame distances ``1 - cos`` between each query's frames and each
       prototype's, and the Bi-MHM distance (:class:`BiMHM`);
       ``logits = -s * d`` (official ``s = 1``);
    3. in training, a linear classifier over the ``num_classes`` training
       classes on the **temporal mean** of every support and query video
       (official ``classification_layer``, weighted by
       ``USE_CLASSIFICATION_VALUE``).

    The adapters, the temporal embedding and the class-token features are
    the encoder's (:class:`OpenCLIPAdapted`); this head has no other
    parameters than the classifier.

    Args:
        embed_dims (int): Frame feature dim ``D`` (from the encoder: the
            ViT's width, 768 for ViT-B/16, or 2048 for a ResNet-50).
        num_classes (int): Training classes (``TRAIN.NUM_CLASS``).
            Defaults to 64.
        loss_video_cls (dict, optional): Loss of the video classifier,
            its weight ``USE_CLASSIFICATION_VALUE``; None: no classifier.
            Defaults to cross-entropy with weight 2 (the ViT yamls).
        bimhm (dict): Set-matching layer. Defaults to ``BiMHM``.
        init_scale (float): Logit scale ``s``. Defaults to 1 (official).
        learnable_scale (bool): Learn ``log s``. Defaults to False.
        loss_cls (dict): Classification loss on the logits.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_classes: int = 64,
                 loss_video_cls: Optional[dict] = dict(
                     type='CrossEntropyLoss', loss_weight=2.0),
                 bimhm: dict = dict(type='BiMHM'),
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
        self.num_classes = num_classes
        self.bimhm = MODELS.build(copy.deepcopy(bimhm))
        if loss_video_cls is not None:
            self.video_classifier = nn.Linear(embed_dims, num_classes)
            self.loss_video_cls = MODELS.build(loss_video_cls)
        else:
            self.video_classifier = self.loss_video_cls = None

    @property
    def needs(self) -> FrozenSet[str]:
        """Frames; in training with the video classifier the global class
        ids too (evaluation never runs the classifier)."""
        if self.loss_video_cls is None or not self.training:
            return frozenset({'frames'})
        return frozenset({'frames', 'class_ids'})

    def match_views(self) -> Dict[str, MatchView]:
        """One view: Bi-MHM on ``frame_distances``."""
        return dict(bimhm=MatchView(self.bimhm, 'frame_distances',
                                    'distances'))

    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Score queries; see the class docstring.

        Returns:
            dict[str, Tensor]: ``logits`` and ``distances`` ``[B, M, N]``,
            ``frame_distances`` ``[B, M, N, Tq, Ts]``; in training with the
            classifier ``video_logits`` ``[B, N*K + M, C]`` (supports, then
            queries).
        """
        support, query = episode.support, episode.query  # [B, V, T, D]
        protos = class_prototypes(support, episode.num_ways)
        frame_dists = 1 - F.normalize(query, dim=-1).unsqueeze(2) @ \
            F.normalize(protos, dim=-1).unsqueeze(1).transpose(-1, -2)
        distances = self.bimhm(frame_dists.float())
        outputs = dict(
            logits=-self.logit_scale * distances,
            distances=distances,
            frame_distances=frame_dists)
        if self.video_classifier is not None and self.training:
            outputs['video_logits'] = self.video_classifier(
                torch.cat([support.mean(2), query.mean(2)], dim=1))
        return outputs

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """``loss_video_cls``: every support and query video against its
        global class id."""
        if self.loss_video_cls is None:
            return {}
        require_training_outputs(self, outputs, ('video_logits', ),
                                 'loss_video_cls')
        if episode.num_classes is not None and \
                episode.num_classes > self.num_classes:
            raise ValueError(
                f'D2STHead: the episodes come from {episode.num_classes} '
                f'classes and the video classifier has num_classes='
                f'{self.num_classes} (official TRAIN.NUM_CLASS): set the head '
                'option num_classes to the number of training classes.')
        labels = torch.cat(
            [episode.support_class_ids(),
             episode.query_class_ids()], dim=1)  # [B, N*K + M]
        logits = outputs['video_logits']
        return dict(loss_video_cls=self.loss_video_cls(
            logits.flatten(0, 1).float(), labels.flatten()))
