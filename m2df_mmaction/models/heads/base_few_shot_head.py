# Copyright (c) m2df_mmaction contributors.
"""What every few-shot head shares: episode bookkeeping, CE loss, predict."""
import math
from abc import ABCMeta, abstractmethod
from typing import Dict, FrozenSet, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModule
from torch import Tensor

from m2df_mmaction.structures import Episode

__all__ = ['BaseFewShotHead', 'MatchView', 'class_prototypes']


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


class MatchView(NamedTuple):
    """One view of a head's matching: which alignment layer matched which
    frame distances (:meth:`BaseFewShotHead.match_views`).

    Attributes:
        aligner (nn.Module): The alignment layer (e.g. :class:`OTAM`); its
            ``explain(frame_distances)`` returns ``soft`` and bool ``path``
            ``[..., Tq, Ts]`` (the frames it matched).
        frame_distances (str): The output key of the ``[B, M, N, Tq, Ts]``
            frame distances the layer aligned (queries by class prototypes).
        distance (str): The output key of the view's ``[B, M, N]`` class
            distances.
    """
    aligner: nn.Module
    frame_distances: str
    distance: str


class BaseFewShotHead(BaseModule, metaclass=ABCMeta):
    """Base class of few-shot heads, and the head contract.

    The contract (``docs/adding_a_method.md``):

    - **Inputs.** A head scores an :class:`Episode`, built once by
      :meth:`FewShotRecognizer.build_episode` for training, validation, the
      cached loops and the inference API alike. It declares in
      :attr:`needs` what it reads beyond the episode's layout and labels
      (names in :data:`HEAD_NEEDS`: ``frames``, ``spatial``, ``tokens``,
      ``raw_frames``, ``text``, ``class_text``, ``class_ids``, ``keys``);
      the recognizer fills exactly those, and refuses with a message when
      it cannot. Heads never read data samples or metainfo.
    - **Caching.** :attr:`cacheable`: whether the features the head reads
      are a function of each video alone, so that the cached evaluation
      loops may compute them once per video (``raw_frames`` are not
      cached: the loops refuse such heads).
    - **Outputs.** :meth:`score` returns ``logits`` ``[B, M, N]`` (larger
      = more likely) plus optional outputs the head documents in its
      :meth:`score` docstring. Heads that align frames name, per view, the
      alignment layer and the outputs it worked on
      (:meth:`match_views`); :meth:`explain` then gives the frames each
      layer matched, so the inference API and the analysis tools draw
      whatever the head used without knowing the head.

    This base turns scores into losses (:meth:`loss_by_feat`:
    classification loss and episode accuracy, plus the head's
    :meth:`extra_losses`) and into predictions (:meth:`predict_by_feat`);
    :meth:`loss` and :meth:`predict` chain the two steps, as MMAction2's
    heads do.

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

    #: The encoder layers whose tokens the head reads when it needs
    #: ``tokens`` (layer indices of the encoder contract; episode features
    #: ``tokens/<layer>``).
    token_layers: Tuple[int, ...] = ()

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
    def needs(self) -> FrozenSet[str]:
        """What the head reads from the episode (:data:`HEAD_NEEDS`).

        Pooled frame features only, by default; a head whose needs depend
        on its settings (e.g. a loss that is off) or on the mode (inputs
        of a training-only loss, e.g. MoLo's reconstruction target)
        overrides this property. In evaluation mode it says what
        evaluation reads, which decides :attr:`cacheable`.
        """
        return frozenset({'frames'})

    @property
    def cacheable(self) -> bool:
        """Whether the cached evaluation loops may compute the head's
        per-video features once per video: everything but the raw frames
        (asked in evaluation mode, as the loops run).
        """
        return 'raw_frames' not in self.needs

    def match_views(self) -> Dict[str, MatchView]:
        """The head's alignment views, by name (none by default).

        Returns:
            dict[str, MatchView]: e.g. ``{'otam': MatchView(self.otam,
            'frame_distances', 'distances')}``.
        """
        return {}

    def explain(self, outputs: Dict[str, Tensor]) -> Dict[str, tuple]:
        """The frames each alignment layer matched, per view.

        Args:
            outputs (dict): What :meth:`forward` returned.

        Returns:
            dict: ``{view: aligner.explain(outputs[frame_distances])}``,
            each with ``soft`` and bool ``path`` ``[B, M, N, Tq, Ts]``.
        """
        return {
            name: view.aligner.explain(outputs[view.frame_distances].float())
            for name, view in self.match_views().items()
        }

    def view_distances(self,
                       outputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``{view: [B, M, N] class distances}`` of the alignment views."""
        return {
            name: outputs[view.distance]
            for name, view in self.match_views().items()
        }

    @property
    def logit_scale(self) -> Tensor:
        """Tensor: The scale ``s`` of the logits (0-dim)."""
        return self.log_scale.exp()

    def forward(self, episode: Episode) -> Dict[str, Tensor]:
        """Score each query against each class of its episode.

        Args:
            episode (Episode): The episodes, with what :attr:`needs` lists.

        Returns:
            dict[str, Tensor]: :meth:`score`'s, at least ``logits``
            ``[B, M, N]``.
        """
        if not isinstance(episode, Episode):
            raise TypeError(
                f'{type(self).__name__} scores an Episode (built by '
                'FewShotRecognizer.build_episode, or '
                'm2df_mmaction.testing.random_episode in tests), got '
                f'{type(episode).__name__}.')
        needs = self.needs
        for name in ('text', 'class_text', 'class_ids', 'keys'):
            if name in needs and getattr(episode, name) is None:
                raise ValueError(
                    f'{type(self).__name__} needs `{name}` and the episode '
                    'has none: ' + _HOW_TO_PROVIDE[name])
        return self.score(episode)

    @abstractmethod
    def score(self, episode: Episode) -> Dict[str, Tensor]:
        """Scores of an episode batch (see :meth:`forward`).

        Args:
            episode (Episode): Features, text, labels and N, K.

        Returns:
            dict[str, Tensor]: At least ``logits`` ``[B, M, N]``.
        """

    def extra_losses(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """Loss terms beyond the classification loss (none here)."""
        return {}

    def loss(self, episode: Episode, **kwargs) -> Dict[str, Tensor]:
        """Score the episodes, then compute the losses (:meth:`loss_by_feat`).

        Args:
            episode (Episode): The episodes, with their query labels.

        Returns:
            dict[str, Tensor]: See :meth:`loss_by_feat`.
        """
        return self.loss_by_feat(self(episode), episode)

    def loss_by_feat(self, outputs: Dict[str, Tensor],
                     episode: Episode) -> Dict[str, Tensor]:
        """Classification loss (plus the head's extra terms) and accuracy.

        Args:
            outputs (dict): What :meth:`forward` returned, at least
                ``logits`` ``[B, M, N]``.
            episode (Episode): The episodes (their ``query_labels``).

        Returns:
            dict[str, Tensor]: ``loss_cls``, extra ``loss_*`` terms and
            ``acc`` (episode accuracy, logged, not optimised).
        """
        logits = outputs['logits']
        labels = episode.require('query_labels')
        losses = dict(
            loss_cls=self.loss_cls(logits.flatten(0, 1).float(),
                                   labels.flatten()))
        losses.update(self.extra_losses(outputs, episode))
        with torch.no_grad():
            losses['acc'] = (logits.argmax(-1) == labels).float().mean()
        return losses

    def predict(self, episode: Episode, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Score the episodes, then write the predictions
        (:meth:`predict_by_feat`).

        Args:
            episode (Episode): The episodes.
            data_samples (list[ActionDataSample]): One per episode; the
                predictions are written into them.

        Returns:
            list[ActionDataSample]: See :meth:`predict_by_feat`.
        """
        return self.predict_by_feat(self(episode), data_samples)

    def predict_by_feat(self, outputs: Dict[str, Tensor],
                        data_samples: SampleList) -> SampleList:
        """Write ``pred_score`` ``[M, N]`` and ``pred_label`` ``[M]``.

        Args:
            outputs (dict): What :meth:`forward` returned, at least
                ``logits`` ``[B, M, N]``.
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


_HOW_TO_PROVIDE = dict(
    text='give FewShotRecognizer a text_encoder and EpisodicDataset '
    'class_names.',
    class_text='give FewShotRecognizer a text_encoder and EpisodicDataset '
    'class_names (the text of every class of the split).',
    class_ids='the episodes need their global class ids (metainfo '
    'class_ids, written by EpisodicDataset).',
    keys='the episodes need their keys (metainfo episode_idx, written by '
    'EpisodicDataset and build_query_episode).')
