# Copyright (c) m2df_mmaction contributors.
"""The episode a few-shot head scores, built once per forward.

Every path into a head (training, validation, the cached evaluation loops,
the inference API, the analysis tools) builds one :class:`Episode` in
:meth:`FewShotRecognizer.build_episode`; heads and losses read only it.
N and K (and Q) are read from the episodes' metainfo here, in
:func:`episode_layout`, and nowhere else.

What a head may read beyond the pooled frame features is declared by the
head (:attr:`BaseFewShotHead.needs`, names in :data:`HEAD_NEEDS`); the
recognizer fills exactly those fields, so an undeclared field is ``None``
and a head cannot depend on something it did not ask for.
"""
import dataclasses
from dataclasses import dataclass, field
from typing import Dict, Mapping, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

__all__ = [
    'Episode', 'EpisodeLayout', 'episode_layout', 'episode_targets',
    'FRAME_KINDS', 'HEAD_NEEDS'
]

#: Features of the episode's videos a head can ask for; each is laid out
#: ``[B, videos, T, ...]``. ``frames``: pooled per-frame embeddings
#: ``[..., D]`` (:attr:`Episode.support` / :attr:`Episode.query`, what
#: every head so far uses); ``spatial``: per-frame spatial maps
#: ``[..., C, h, w]``; ``tokens``: tokens of chosen intermediate encoder
#: layers; ``raw_frames``: the normalised input frames ``[..., 3, H, W]``
#: (not cacheable). The encoder contract says who provides which.
FRAME_KINDS = ('frames', 'spatial', 'tokens', 'raw_frames')

#: Everything a head may declare in :attr:`BaseFewShotHead.needs`:
#: the frame kinds, ``text`` (``[B, N, D_t]`` text of the episode's
#: classes), ``class_text`` (``[C, D_t]`` text of every class of the
#: split, in label order), ``class_ids`` (``[B, N]`` global class ids of
#: the episode's classes, with :attr:`Episode.num_classes` = C) and
#: ``keys`` (``[B]`` episode keys for seeded draws, ``episode_idx``).
HEAD_NEEDS = FRAME_KINDS + ('text', 'class_text', 'class_ids', 'keys')


class EpisodeLayout(NamedTuple):
    """N, K and Q of a batch of episodes.

    Attributes:
        num_ways (int): N, classes per episode.
        num_shots (int): K, support videos per class.
        num_queries (int, optional): Q, query videos per class; None for an
            inference episode, whose queries are not ``N*Q`` (one query
            clip, any class).
    """
    num_ways: int
    num_shots: int
    num_queries: Optional[int]

    @property
    def num_support(self) -> int:
        """N*K."""
        return self.num_ways * self.num_shots


def episode_layout(data_samples: Sequence) -> EpisodeLayout:
    """N, K and Q of a batch of episodes, from their metainfo.

    The one place that reads them: :class:`EpisodicDataset` and
    :func:`build_query_episode` write ``num_ways``, ``num_shots`` (and
    ``num_queries``) into every episode's metainfo.

    Args:
        data_samples (Sequence[ActionDataSample]): One per episode.

    Raises:
        ValueError: No samples, a sample without ``num_ways`` or
            ``num_shots``, or episodes of different layouts in one batch.
    """
    if not data_samples:
        raise ValueError('No episode data samples: a head needs the '
                         'episodes (their num_ways/num_shots metainfo).')
    layouts = set()
    for sample in data_samples:
        meta = sample.metainfo
        missing = [k for k in ('num_ways', 'num_shots') if k not in meta]
        if missing:
            raise ValueError(
                f'Episode metainfo lacks {missing}: build episodes with '
                'EpisodicDataset (training, testing) or '
                'm2df_mmaction.apis.build_query_episode (inference).')
        queries = meta.get('num_queries')
        layouts.add(
            EpisodeLayout(
                int(meta['num_ways']), int(meta['num_shots']),
                None if queries is None else int(queries)))
    if len(layouts) > 1:
        raise ValueError('The episodes of one batch must share N, K and Q, '
                         f'got {sorted(layouts)}.')
    return layouts.pop()


class EpisodeTargets(NamedTuple):
    """Labels and keys of a batch of episodes (:func:`episode_targets`)."""
    query_labels: Tensor
    class_ids: Optional[Tensor]
    num_classes: Optional[int]
    keys: Optional[Tensor]


def episode_targets(data_samples: Sequence,
                    device: torch.device,
                    need_class_ids: bool = False,
                    need_keys: bool = False) -> EpisodeTargets:
    """Query labels, global class ids and episode keys from the metainfo.

    Host lists become one tensor each, sent to ``device`` without waiting
    (no per-episode synchronisation).

    Args:
        data_samples (Sequence[ActionDataSample]): One per episode.
        device (torch.device): Where the tensors go.
        need_class_ids (bool): Read ``class_ids`` (and the number of
            classes, ``len(all_class_names)``); an error if absent.
        need_keys (bool): Read ``episode_idx``; an error if absent.

    Returns:
        EpisodeTargets: ``query_labels`` ``[B, M]`` (episode-relative),
        ``class_ids`` ``[B, N]`` or None, ``num_classes`` or None and
        ``keys`` ``[B]`` or None.
    """
    labels = torch.stack([s.gt_label for s in data_samples]).to(
        device, torch.long, non_blocking=True)
    class_ids = keys = num_classes = None
    if need_class_ids:
        class_ids = _metainfo_tensor(
            data_samples, 'class_ids', device,
            'The head needs the global class ids of each episode '
            '(metainfo class_ids), and an episode lacks them: build '
            'episodes with EpisodicDataset.')
        names = data_samples[0].metainfo.get('all_class_names')
        num_classes = None if names is None else len(names)
    if need_keys:
        keys = _metainfo_tensor(
            data_samples, 'episode_idx', device,
            'The head draws at random per episode and needs each '
            "episode's key (metainfo episode_idx) to make the draws a "
            'function of the episode: EpisodicDataset and '
            'build_query_episode write it; set it in episodes you build '
            'yourself.')
    return EpisodeTargets(labels, class_ids, num_classes, keys)


def _metainfo_tensor(data_samples: Sequence, key: str,
                     device: torch.device, missing: str) -> Tensor:
    """``[B, ...]`` long tensor of one metainfo entry of every episode, sent
    to ``device`` without waiting; ``missing`` is the error if absent."""
    if any(key not in s.metainfo for s in data_samples):
        raise ValueError(missing)
    return torch.as_tensor([s.metainfo[key] for s in data_samples],
                           dtype=torch.long).to(device, non_blocking=True)


@dataclass(frozen=True, eq=False)
class Episode:
    """A batch of ``B`` episodes as a head scores them.

    Shapes: ``N`` ways, ``K`` shots, ``M`` queries per episode (``N*Q`` in
    a benchmark episode, any number at inference), ``T`` frames, ``D``
    feature dims. Supports are way-major: support ``j`` is of episode class
    ``j // K``. Optional fields hold None unless the head declared them in
    its :attr:`~BaseFewShotHead.needs`.

    Attributes:
        num_ways (int): N.
        num_shots (int): K.
        support (Tensor): ``[B, N*K, T, D]`` pooled frame features.
        query (Tensor): ``[B, M, T, D]`` pooled frame features.
        query_labels (Tensor, optional): ``[B, M]`` episode-relative labels
            (placeholders at inference, where the class is unknown).
        class_ids (Tensor, optional): ``[B, N]`` global class ids of the
            episode's classes (``needs`` ``class_ids``).
        num_classes (int, optional): Number of classes of the split, the
            rows of ``class_text`` (``needs`` ``class_ids``).
        keys (Tensor, optional): ``[B]`` episode keys (``episode_idx``) for
            draws that must be a function of the episode (``needs``
            ``keys``).
        text (Tensor, optional): ``[B, N, D_t]`` text of the episode's
            classes (``needs`` ``text``).
        class_text (Tensor, optional): ``[C, D_t]`` text of every class of
            the split, in label order (``needs`` ``class_text``).
        support_extra (dict[str, Tensor]): Richer support features by kind,
            ``[B, N*K, T, ...]``: ``spatial`` ``[..., C, h, w]``,
            ``tokens/<layer>`` ``[..., L, C]`` per layer of the head's
            ``token_layers``, ``raw_frames`` ``[..., 3, H, W]``.
        query_extra (dict[str, Tensor]): The same for the queries,
            ``[B, M, T, ...]``.
    """
    num_ways: int
    num_shots: int
    support: Tensor
    query: Tensor
    query_labels: Optional[Tensor] = None
    class_ids: Optional[Tensor] = None
    num_classes: Optional[int] = None
    keys: Optional[Tensor] = None
    text: Optional[Tensor] = None
    class_text: Optional[Tensor] = None
    support_extra: Mapping[str, Tensor] = field(default_factory=dict)
    query_extra: Mapping[str, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, k = self.num_ways, self.num_shots
        if n < 1 or k < 1:
            raise ValueError(f'An episode needs N >= 1 and K >= 1, got N={n}, '
                             f'K={k}.')
        if self.support.dim() < 3 or self.support.shape[1] != n * k:
            raise ValueError(
                f'support must be [B, N*K, ...] = [B, {n * k}, ...] for '
                f'N={n}, K={k}, got {tuple(self.support.shape)}.')
        if self.query.dim() < 3 or \
                self.query.shape[0] != self.support.shape[0]:
            raise ValueError(
                f'query must be [B, M, ...] with the support\'s B='
                f'{self.support.shape[0]}, got {tuple(self.query.shape)}.')
        if self.query_labels is not None and \
                tuple(self.query_labels.shape) != tuple(self.query.shape[:2]):
            raise ValueError(
                f'query_labels must be [B, M] = {tuple(self.query.shape[:2])}'
                f', got {tuple(self.query_labels.shape)}.')
        if self.text is not None and self.text.shape[1] != n:
            raise ValueError(f'text must be [B, N={n}, D], got '
                             f'{tuple(self.text.shape)}.')

    @property
    def batch_size(self) -> int:
        """B."""
        return self.support.shape[0]

    @property
    def num_query_videos(self) -> int:
        """M, queries per episode."""
        return self.query.shape[1]

    def support_class_ids(self) -> Tensor:
        """``[B, N*K]`` global class id of each support."""
        return self.require('class_ids').repeat_interleave(
            self.num_shots, dim=1)

    def query_class_ids(self) -> Tensor:
        """``[B, M]`` global class id of each query."""
        return self.require('class_ids').gather(
            1, self.require('query_labels'))

    def require(self, name: str):
        """Field ``name``, or an error saying how a head gets it."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(
                f'The episode has no {name}: a head that reads it must list '
                f'it in its `needs` ({", ".join(HEAD_NEEDS)}), and the '
                'recognizer must be able to provide it (a text encoder for '
                'text/class_text; EpisodicDataset metainfo for class_ids '
                'and keys).')
        return value

    def replace(self, **changes) -> 'Episode':
        """A copy with some fields changed (e.g. projected text)."""
        return dataclasses.replace(self, **changes)

    def extra(self, kind: str) -> Dict[str, Tensor]:
        """``{'support': ..., 'query': ...}`` features of a richer kind."""
        if kind not in self.support_extra or kind not in self.query_extra:
            raise ValueError(
                f'The episode has no {kind!r} features: list {kind!r} in '
                "the head's `needs`, with an encoder that provides it.")
        return dict(support=self.support_extra[kind],
                    query=self.query_extra[kind])
