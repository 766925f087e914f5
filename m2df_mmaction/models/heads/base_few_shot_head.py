# Copyright (c) m2df_mmaction contributors.
"""What every few-shot head shares: episode bookkeeping, CE loss, predict."""
import math
from abc import ABCMeta, abstractmethod
from typing import Dict, NamedTuple, Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModule
from torch import Tensor

__all__ = ['BaseFewShotHead', 'Episode', 'class_prototypes']


def require_training_outputs(head: nn.Module, outputs: Dict[str, Tensor],
                             keys: tuple, loss: str) -> None:
    """Refuse a training-only loss on the outputs of an eval-mode forward.

    Heads compute the extra inputs of some losses (e.g. per-video features
    for a video-text loss) only in training mode, to keep evaluation
    cheap; ``loss_by_feat`` on eval-mode outputs would otherwise fail
    with a bare ``KeyError``.
    """
    missing = [k for k in keys if k not in outputs]
    if missing:
        raise ValueError(
            f'{type(head).__name__}.{loss} needs {missing} from a '
            'training-mode forward, and these outputs come from an '
            'eval-mode one (the head computes them only in training): call '
            f'model.train() before computing losses, or build the head with '
            f'{loss}=None to compute the classification loss alone.')


def class_prototypes(support: Tensor, num_ways: int) -> Tensor:
    """Average the supports of each class.

    Args:
        support (Tensor): ``[B, N*K, ...]``, way-major (support ``j`` is of
            class ``j // K``), as :class:`EpisodicDataset` lays them out.
        num_ways (int): N.

    Returns:
        Tensor: ``[B, N, ...]``.
    """
    batch, num_support = support.shape[:2]
    if num_support % num_ways:
        raise ValueError(f'{num_support} supports do not split into '
                         f'{num_ways} classes.')
    return support.reshape(batch, num_ways, num_support // num_ways,
                           *support.shape[2:]).mean(2)


class Episode(NamedTuple):
    """A batch of ``B`` episodes as a head scores them.

    Attributes:
        support (Tensor): ``[B, N*K, T, D]`` frame features, way-major.
        query (Tensor): ``[B, N*Q, T, D]`` frame features.
        text (Tensor, optional): ``[B, N, D_text]`` class text embeddings.
        class_text (Tensor, optional): ``[C, D_text]`` text of every class
            of the dataset (heads with ``uses_class_text``).
        num_ways (int): N.
        data_samples (list[ActionDataSample], optional): The episodes.
    """
    support: Tensor
    query: Tensor
    text: Optional[Tensor]
    class_text: Optional[Tensor]
    num_ways: int
    data_samples: Optional[SampleList]

    @property
    def num_shots(self) -> int:
        """K."""
        return self.support.shape[1] // self.num_ways


class BaseFewShotHead(BaseModule, metaclass=ABCMeta):
    """Base class of few-shot heads.

    A subclass implements :meth:`score` (features to scores), which maps an
    :class:`Episode` to a dict holding at least ``logits`` ``[B, N*Q, N]``
    (larger = more likely), and may add terms in :meth:`extra_losses`;
    :meth:`forward` checks the inputs and builds the episode. This base
    turns scores into losses (:meth:`loss_by_feat`: classification loss and
    episode accuracy) and
    into predictions (:meth:`predict_by_feat`); :meth:`loss` and
    :meth:`predict` chain the two steps, as MMAction2's heads do. A head
    that wants the text of every class of the dataset (``class_text``) sets
    ``uses_class_text = True``.

    Heads scale their logits by ``s = exp(log_scale)`` (:attr:`logit_scale`),
    fixed at ``init_scale`` or learned. The alignment heads default to 1 as
    their papers; a learnable scale (e.g. from 10) speeds up learning from a
    randomly initialised encoder, whose frame features are nearly identical
    at first.

    Args:
        loss_cls (dict): Classification loss on the logits. Defaults to
            ``dict(type='CrossEntropyLoss', loss_weight=1.0)`` (λ1).
        init_scale (float): Initial logit scale ``s``. Defaults to 1.
        learnable_scale (bool): Learn ``log s``. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """
    uses_class_text: bool = False
    #: Whether :meth:`score` needs the class text (``text``).
    requires_text: bool = False

    def __init__(self,
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 init_scale: float = 1.0,
                 learnable_scale: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_cls = MODELS.build(loss_cls)
        self.log_scale = nn.Parameter(
            torch.tensor(math.log(init_scale)),
            requires_grad=learnable_scale)

    @property
    def logit_scale(self) -> Tensor:
        """Tensor: The scale ``s`` of the logits (0-dim)."""
        return self.log_scale.exp()

    def forward(self,
                support: Tensor,
                query: Tensor,
                text: Optional[Tensor] = None,
                class_text: Optional[Tensor] = None,
                data_samples: Optional[SampleList] = None
                ) -> Dict[str, Tensor]:
        """Score each query against each class of its episode.

        Args:
            support (Tensor): ``[B, N*K, T, D]`` frame features, way-major.
            query (Tensor): ``[B, N*Q, T, D]`` frame features.
            text (Tensor, optional): ``[B, N, D]`` class text embeddings.
            class_text (Tensor, optional): ``[C, D]`` text embeddings of all
                the dataset's classes (only if ``uses_class_text``).
            data_samples (list[ActionDataSample], optional): The episodes.

        Returns:
            dict[str, Tensor]: :meth:`score`'s, at least ``logits``
            ``[B, N*Q, N]``.
        """
        if self.requires_text and text is None:
            raise ValueError(f'{type(self).__name__} needs class text '
                             'embeddings: give FewShotRecognizer a '
                             'text_encoder.')
        return self.score(
            Episode(support, query, text, class_text,
                    self.num_ways(data_samples, text), data_samples))

    @abstractmethod
    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Scores of an episode batch (see :meth:`forward`).

        Args:
            episode (Episode): Features, text and N.

        Returns:
            dict[str, Tensor]: At least ``logits`` ``[B, N*Q, N]``.
        """

    def extra_losses(self, outputs: Dict[str, Tensor],
                     data_samples: SampleList) -> Dict[str, Tensor]:
        """Loss terms beyond the classification loss (none here)."""
        return {}

    @staticmethod
    def num_ways(data_samples: Optional[SampleList],
                 text: Optional[Tensor] = None) -> int:
        """N of the batch's episodes (they all share it).

        Args:
            data_samples (list[ActionDataSample], optional): The episodes;
                their ``num_ways`` metainfo is used when given.
            text (Tensor, optional): ``[B, N, D]`` class text, used when no
                data sample is given.

        Raises:
            ValueError: Neither is given (supports alone cannot tell N from
                K).
        """
        if data_samples:
            return int(data_samples[0].metainfo['num_ways'])
        if text is not None:
            return int(text.shape[1])
        raise ValueError('The head cannot tell N (ways) from the supports '
                         'alone: pass data_samples (num_ways metainfo) or '
                         'the class text [B, N, D].')

    @staticmethod
    def query_labels(data_samples: SampleList, device) -> Tensor:
        """Episode-relative query labels ``[B, N*Q]``."""
        return torch.stack([s.gt_label for s in data_samples]).to(device)

    def loss(self, feats: Dict[str, Optional[Tensor]],
             data_samples: SampleList, **kwargs) -> Dict[str, Tensor]:
        """Score the episodes, then compute the losses (:meth:`loss_by_feat`).

        Args:
            feats (dict): ``support``, ``query``, ``text`` and
                ``class_text``, as :meth:`forward` takes them.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            dict[str, Tensor]: See :meth:`loss_by_feat`.
        """
        return self.loss_by_feat(
            self(**feats, data_samples=data_samples), data_samples)

    def loss_by_feat(self, outputs: Dict[str, Tensor],
                     data_samples: SampleList) -> Dict[str, Tensor]:
        """Classification loss (plus the head's extra terms) and accuracy.

        Args:
            outputs (dict): What :meth:`forward` returned, at least
                ``logits`` ``[B, N*Q, N]``.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            dict[str, Tensor]: ``loss_cls``, extra ``loss_*`` terms and
            ``acc`` (episode accuracy, logged, not optimised).
        """
        logits = outputs['logits']
        labels = self.query_labels(data_samples, logits.device)
        losses = dict(
            loss_cls=self.loss_cls(logits.flatten(0, 1).float(),
                                   labels.flatten()))
        losses.update(self.extra_losses(outputs, data_samples))
        with torch.no_grad():
            losses['acc'] = (logits.argmax(-1) == labels).float().mean()
        return losses

    def predict(self, feats: Dict[str, Optional[Tensor]],
                data_samples: SampleList, **kwargs) -> SampleList:
        """Score the episodes, then write the predictions
        (:meth:`predict_by_feat`).

        Args:
            feats (dict): ``support``, ``query``, ``text`` and
                ``class_text``, as :meth:`forward` takes them.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            list[ActionDataSample]: See :meth:`predict_by_feat`.
        """
        return self.predict_by_feat(
            self(**feats, data_samples=data_samples), data_samples)

    def predict_by_feat(self, outputs: Dict[str, Tensor],
                        data_samples: SampleList) -> SampleList:
        """Write ``pred_score`` ``[N*Q, N]`` and ``pred_label`` ``[N*Q]``.

        Args:
            outputs (dict): What :meth:`forward` returned, at least
                ``logits`` ``[B, N*Q, N]``.
            data_samples (list[ActionDataSample]): One per episode.

        Returns:
            list[ActionDataSample]: The same samples, with predictions.
        """
        scores = outputs['logits'].float().softmax(-1)
        labels = scores.argmax(-1)  # one op for the batch, not one each
        for sample, score, label in zip(data_samples, scores, labels):
            sample.set_pred_score(score)
            sample.set_pred_label(label)
        return data_samples
