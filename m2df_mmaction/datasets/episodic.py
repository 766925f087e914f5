# Copyright (c) m2df_mmaction contributors.
"""One dataset index = one N-way K-shot episode."""
import copy
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.dataset import BaseDataset, Compose
from torch.utils.data import Dataset

from .class_names import load_class_names
from .episode_checks import (check_class_names, check_dataset_annotations,
                             check_episode_settings, check_files_exist,
                             dataset_source, group_videos_by_class)
from .episode_seeding import seeded_episode

__all__ = ['EpisodicDataset']


@DATASETS.register_module()
class EpisodicDataset(Dataset):
    """Wrap a video dataset so that each index is a few-shot episode.

    Episode ``i`` is a pure function of ``(episodes_seed, i)``: the same seed
    gives the same episodes on any number of GPUs and dataloader workers.
    So are the random choices of the wrapped pipeline (frame offsets, crops,
    flips): while an episode's videos are loaded, Python's, numpy's and
    torch's generators are seeded from ``(episodes_seed, i)`` and restored
    afterwards. A resumed or re-run training therefore sees exactly the same
    augmented episodes.
    An episode draws ``num_ways`` classes, then ``num_shots + num_queries``
    distinct videos of each class, and returns::

        dict(inputs=Tensor[V, ...], data_samples=ActionDataSample)

    with ``V = num_ways * (num_shots + num_queries)``: the ``N*K`` supports
    first, way-major (support ``j`` is of episode class ``j // K``), then the
    ``N*Q`` queries, way-major too. The single data sample carries

    - ``gt_label``: episode-relative query labels, ``LongTensor[N*Q]``;
    - metainfo ``class_names`` (the N names, for the text encoder),
      ``class_ids`` (the N dataset-level labels), ``all_class_names`` (every
      class of the dataset, for video-text losses), ``episode_idx``,
      ``num_ways``, ``num_shots``, ``num_queries`` and ``video_indices``.

    Args:
        dataset (dict | BaseDataset): The wrapped dataset, or its config,
            e.g. MMAction2's ``VideoDataset`` or ``RawframeDataset`` whose
            pipeline ends with ``FormatShape`` and ``PackActionInputs``.
        num_ways (int): Classes per episode (N).
        num_shots (int): Support videos per class (K).
        num_queries (int): Query videos per class (Q).
        num_episodes (int): Length of the dataset. For training pick it at
            least as large as the number of iterations.
        episodes_seed (int): Seed of the episodes.
        class_names (str | Sequence[str], optional): Readable class names,
            indexed by the dataset's labels, or a file with one name per
            line. Required by text-using models. Defaults to None.
        check_files (bool): Check at init that every listed video exists
            and is one (a text file or an image listed as a video is named
            with its annotation line; see ``check_files_exist``), so a bad
            entry fails now, not hours into training. Blank and malformed
            annotation lines are refused at init whatever this says.
            Defaults to True.
        query_pipeline (list[dict], optional): A separate pipeline for the
            query videos of training episodes (CLIP-FSAR's
            ``SUPPORT_QUERY_DIFF``: Kinetics-100 queries get flip and colour
            jitter, supports do not), run on the wrapped dataset's data info
            of each video. Test and validation episodes always use the
            wrapped dataset's pipeline. Defaults to None (same pipeline).
        on_corrupt (str): What a training episode does when a video fails
            to load: ``'raise'`` (default) stops with an error naming the
            file; ``'replace'`` loads another video of the same class instead
            and records the replacement in the episode's metainfo
            (``replaced_videos``), which :class:`CorruptVideoHook` counts in
            the log and lists in the work dir. Test and validation episodes
            always raise.
        test_mode (bool): Passed to the wrapped dataset when built from a
            config. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 num_ways: int = 5,
                 num_shots: int = 1,
                 num_queries: int = 1,
                 num_episodes: int = 10000,
                 episodes_seed: int = 0,
                 class_names: Optional[Union[str, Sequence[str]]] = None,
                 check_files: bool = True,
                 query_pipeline: Optional[Sequence[dict]] = None,
                 on_corrupt: str = 'raise',
                 test_mode: bool = False) -> None:
        for name, value in (('num_ways', num_ways), ('num_shots', num_shots),
                            ('num_queries', num_queries),
                            ('num_episodes', num_episodes)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f'EpisodicDataset: {name} must be a positive integer, '
                    f'got {value!r}.')
        if on_corrupt not in ('raise', 'replace'):
            raise ValueError(f'EpisodicDataset: on_corrupt must be "raise" '
                             f'or "replace", got {on_corrupt!r}.')
        if isinstance(dataset, dict):
            dataset = copy.deepcopy(dataset)
            dataset.setdefault('test_mode', test_mode)
            if _is_base_dataset(dataset.get('type')):
                # Parse the annotation file only after it is checked
                # (full_init below).
                dataset['lazy_init'] = True
            dataset = DATASETS.build(dataset)
        # Before parsing: blank or malformed lines, named (line numbers).
        num_lines = check_dataset_annotations(dataset)
        self.dataset = dataset
        self.num_ways = num_ways
        self.num_shots = num_shots
        self.num_queries = num_queries
        self.num_episodes = num_episodes
        self.episodes_seed = episodes_seed
        self.test_mode = test_mode
        # Test and validation never replace: their episodes are the protocol.
        self.replace_corrupt = on_corrupt == 'replace' and not test_mode
        self.query_pipeline = Compose(query_pipeline) \
            if query_pipeline is not None and not test_mode else None

        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        # What can be checked without decoding, named (episode_checks.py).
        self.class_to_indices = group_videos_by_class(self.dataset)
        self.classes = sorted(self.class_to_indices)
        self.class_names = None
        if class_names is not None:
            self.class_names = load_class_names(class_names)
            check_class_names(self.class_names, self.classes, self.dataset,
                              class_names if isinstance(class_names, str)
                              else 'class_names')
        check_episode_settings(self.class_to_indices, num_ways,
                               num_shots + num_queries, self.dataset,
                               self._class_label)
        if check_files:
            # Entry i is line i + 1 of a checked file (no blank lines).
            by_line = num_lines == len(self.dataset)
            check_files_exist(
                self.dataset, (lambda i: f'line {i + 1}') if by_line else None)

    @property
    def _source(self) -> str:
        return dataset_source(self.dataset)

    def _class_label(self, label: int) -> str:
        if self.class_names is not None:
            return f'{label} ({self.class_names[label]!r})'
        return str(label)

    # ------------------------------------------------------------------
    # episodes
    # ------------------------------------------------------------------
    @property
    def metainfo(self) -> dict:
        """Dataset meta information, as MMEngine's runner expects."""
        return dict(classes=self.class_names,
                    num_ways=self.num_ways,
                    num_shots=self.num_shots,
                    num_queries=self.num_queries)

    @property
    def episode_layout(self) -> Tuple[int, int, int]:
        """``(N, K, Q)``: ``num_ways``, ``num_shots``, ``num_queries``."""
        return self.num_ways, self.num_shots, self.num_queries

    def __len__(self) -> int:
        return self.num_episodes

    def sample_episode(self, index: int) -> Dict[str, np.ndarray]:
        """Draw episode ``index`` without loading any video.

        Args:
            index (int): Episode index.

        Returns:
            dict: ``class_ids`` ``[N]`` (dataset labels), ``support`` and
            ``query`` video indices of the wrapped dataset, ``[N*K]`` and
            ``[N*Q]``, both way-major.
        """
        if not 0 <= index < self.num_episodes:
            raise IndexError(f'episode {index} out of range '
                             f'[0, {self.num_episodes})')
        rng = np.random.default_rng([self.episodes_seed, index])
        class_ids = rng.choice(self.classes, self.num_ways, replace=False)
        need = self.num_shots + self.num_queries
        picks = np.stack([
            rng.choice(self.class_to_indices[c], need, replace=False)
            for c in class_ids
        ])  # [N, K+Q]
        return dict(
            class_ids=class_ids,
            support=picks[:, :self.num_shots].reshape(-1),
            query=picks[:, self.num_shots:].reshape(-1))

    def video_pool(self) -> np.ndarray:
        """Every video an episode can draw: ``[M]`` sorted indices of the
        wrapped dataset (the videos of the episode classes)."""
        return np.sort(
            np.concatenate([self.class_to_indices[c] for c in self.classes]))

    def expected_unused_videos(self, num_episodes: int) -> float:
        """Expected number of :meth:`video_pool` videos that none of
        ``num_episodes`` episodes draws.

        Under :meth:`sample_episode`'s draws a class of ``n`` videos is in
        an episode with probability ``N / C`` and then gives each of its
        videos probability ``(K + Q) / n``, independently across episodes,
        so the expectation is ``sum_c n_c (1 - N (K + Q) / (C n_c)) ** E``.

        Args:
            num_episodes (int): ``E``.

        Returns:
            float: The expected count.
        """
        need = self.num_shots + self.num_queries
        share = self.num_ways / len(self.classes)
        sizes = np.array([len(self.class_to_indices[c]) for c in self.classes])
        return float(
            np.sum(sizes * (1 - share * need / sizes)**num_episodes))

    def load_video(self,
                   video_index: int,
                   query: bool = False) -> torch.Tensor:
        """Run the wrapped dataset's pipeline on one video.

        Args:
            video_index (int): Index in the wrapped dataset.
            query (bool): Whether the video is a query of a training
                episode: then the ``query_pipeline`` runs instead, if set.
                Defaults to False.

        Returns:
            Tensor: The packed ``inputs``, e.g. ``[T, C, H, W]``.

        Raises:
            RuntimeError: Naming the file, when loading fails.
        """
        try:
            if query and self.query_pipeline is not None:
                info = copy.deepcopy(self.dataset.get_data_info(video_index))
                return self.query_pipeline(info)['inputs']
            return self.dataset[video_index]['inputs']
        except Exception as error:
            info = self.dataset.get_data_info(video_index)
            path = info.get('filename') or info.get('frame_dir')
            raise RuntimeError(
                f'EpisodicDataset: failed to load video {path!r} (index '
                f'{video_index} of {self._source}): '
                f'{type(error).__name__}: {error}') from error

    @staticmethod
    def episode_video_indices(episode: Dict[str, np.ndarray]) -> np.ndarray:
        """Video indices of an episode in item order: supports, then queries.

        Args:
            episode (dict): As returned by :meth:`sample_episode`.

        Returns:
            np.ndarray: ``[N*(K+Q)]`` indices of the wrapped dataset.
        """
        return np.concatenate([episode['support'], episode['query']])

    def build_data_sample(
            self,
            index: int,
            episode: Optional[Dict[str, np.ndarray]] = None
    ) -> ActionDataSample:
        """The data sample of episode ``index``, without loading any video.

        :meth:`__getitem__` returns this sample next to the decoded videos;
        a loop that caches frame features can build the same sample alone.

        Args:
            index (int): Episode index.
            episode (dict, optional): ``sample_episode(index)``, if already
                drawn. Defaults to None (drawn here).

        Returns:
            ActionDataSample: Labels and metainfo of the episode (see the
            class docstring).
        """
        if episode is None:
            episode = self.sample_episode(index)
        video_indices = self.episode_video_indices(episode)
        ways = np.arange(self.num_ways)
        sample = ActionDataSample()
        sample.set_gt_label(np.repeat(ways, self.num_queries))
        class_ids = [int(c) for c in episode['class_ids']]
        metainfo = dict(
            episode_idx=index,
            class_ids=class_ids,
            class_names=[self.class_names[c] for c in class_ids]
            if self.class_names is not None else None,
            all_class_names=self.class_names,  # shared by all: read only
            num_ways=self.num_ways,
            num_shots=self.num_shots,
            num_queries=self.num_queries,
            video_indices=video_indices.tolist())
        # set_field, not set_metainfo: set_metainfo deep-copies the dict,
        # which cost more than the rest of a cached test episode; every
        # value here is new except the dataset's class-name list.
        for name, value in metainfo.items():
            sample.set_field(value, name, field_type='metainfo')
        return sample

    def __getitem__(self, index: int) -> dict:
        episode = self.sample_episode(index)
        video_indices = self.episode_video_indices(episode)
        num_support = len(episode['support'])
        replaced = []
        with seeded_episode(self.episodes_seed, index):
            videos = []
            taken = set(video_indices.tolist())  # never reuse an episode video
            for position, i in enumerate(video_indices):
                query = position >= num_support
                if self.replace_corrupt:
                    video, used = self._load_or_replace(
                        int(i), taken, index, query)
                    if used != i:
                        taken.add(used)
                        replaced.append((self._path(int(i)), self._path(used)))
                else:
                    video = self.load_video(int(i), query)
                videos.append(video)
        if len({video.dtype for video in videos}) > 1:
            # e.g. float32 colour-jittered queries next to uint8 supports
            videos = [video.float() for video in videos]
        sample = self.build_data_sample(index, episode)
        if replaced:
            sample.set_metainfo(dict(replaced_videos=replaced))
        return dict(inputs=torch.stack(videos), data_samples=sample)

    def _path(self, video_index: int) -> str:
        info = self.dataset.get_data_info(video_index)
        return str(info.get('filename') or info.get('frame_dir'))

    def _load_or_replace(self, video_index: int, taken: set,
                         episode_index: int, query: bool = False) -> tuple:
        """Load a video; if it fails, another of its class (training).

        Returns:
            tuple: ``(inputs, index of the video actually loaded)``.
        """
        try:
            return self.load_video(video_index, query), video_index
        except RuntimeError as error:
            label = int(self.dataset.get_data_info(video_index)['label'])
            rng = np.random.default_rng(
                [self.episodes_seed, episode_index, video_index])
            others = [i for i in self.class_to_indices[label]
                      if i not in taken]
            for other in rng.permutation(others):
                try:
                    return self.load_video(int(other), query), int(other)
                except RuntimeError:
                    taken.add(int(other))
            raise RuntimeError(
                f'{error}; and no other video of class '
                f'{self._class_label(label)} could be loaded instead.'
            ) from error


def _is_base_dataset(dataset_type) -> bool:
    """Whether a dataset config's ``type`` is an MMEngine ``BaseDataset``
    (which takes ``lazy_init``)."""
    if isinstance(dataset_type, str):
        dataset_type = DATASETS.get(dataset_type)
    return isinstance(dataset_type, type) and \
        issubclass(dataset_type, BaseDataset)
