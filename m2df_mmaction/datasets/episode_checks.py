# Copyright (c) m2df_mmaction contributors.
"""What :class:`EpisodicDataset` checks at init, before any decoding.

Each check names the file, class, label or count at fault, so a wrong
annotation file, class-name list or way/shot setting fails at once rather
than hours into training.
"""
import os.path as osp
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmaction.datasets import RawframeDataset, VideoDataset

from .annotation_check import check_annotation_file
from .file_kinds import is_video_name, sniff_non_video

__all__ = [
    'dataset_source', 'check_dataset_annotations', 'group_videos_by_class',
    'check_class_names', 'check_episode_settings', 'check_files_exist'
]
_MAX_LISTED = 10


def dataset_source(dataset) -> str:
    """How messages name a wrapped dataset: its annotation file or type."""
    return str(getattr(dataset, 'ann_file', '') or type(dataset).__name__)


def check_dataset_annotations(dataset) -> int:
    """Check the annotation file of a wrapped ``VideoDataset`` or
    ``RawframeDataset`` (:func:`check_annotation_file`).

    Call it before the dataset parses the file (build it with
    ``lazy_init=True``): MMAction2's parsers fail on a malformed line with a
    bare ``IndexError``/``ValueError`` or make a bogus video of it.

    Args:
        dataset: The wrapped dataset.

    Returns:
        int: The number of annotation lines; 0 when not checked (another
        dataset type, or no local annotation file).
    """
    ann_file = getattr(dataset, 'ann_file', None)
    if not isinstance(ann_file, str) or not osp.isfile(ann_file):
        return 0
    if isinstance(dataset, VideoDataset):
        return check_annotation_file(
            ann_file, 'VideoDataset',
            delimiter=getattr(dataset, 'delimiter', ' '))
    if isinstance(dataset, RawframeDataset):
        return check_annotation_file(
            ann_file, 'RawframeDataset',
            with_offset=bool(getattr(dataset, 'with_offset', False)))
    return 0


def group_videos_by_class(dataset) -> Dict[int, List[int]]:
    """The video indices of each label of a wrapped dataset.

    Raises:
        ValueError: An empty dataset, or a video with no or several labels.
    """
    source = dataset_source(dataset)
    if len(dataset) == 0:
        raise ValueError(
            f'EpisodicDataset: the wrapped dataset ({source}) is empty; '
            'check its annotation file and data_prefix.')
    groups = defaultdict(list)
    for index in range(len(dataset)):
        label = dataset.get_data_info(index).get('label')
        if isinstance(label, (list, tuple, np.ndarray)):
            raise ValueError(
                f'EpisodicDataset: video {index} of {source} has several '
                f'labels ({label}); few-shot episodes need single-label '
                'videos.')
        if label is None:
            raise ValueError(
                f'EpisodicDataset: video {index} of {source} has no label.')
        groups[int(label)].append(index)
    return dict(groups)


def check_class_names(names: Sequence[str], classes: Sequence[int],
                      dataset, names_source: str) -> None:
    """One name per label of the dataset, no more, no fewer.

    Args:
        names (Sequence[str]): The class names, indexed by label.
        classes (Sequence[int]): The labels that have videos, sorted.
        dataset: The wrapped dataset.
        names_source (str): The class-name file (or ``'class_names'``).
    """
    source = dataset_source(dataset)
    top = max(classes)
    if top >= len(names):
        raise ValueError(
            f'EpisodicDataset: {source} uses label {top}, but '
            f'{names_source} names only {len(names)} classes (labels '
            f'0..{len(names) - 1}); the class-name list must have one name '
            'per label, in label order.')
    unused = sorted(set(range(len(names))) - set(classes))
    if unused:
        listed = ', '.join(f'{i} ({names[i]!r})' for i in unused[:5])
        raise ValueError(
            f'EpisodicDataset: {names_source} names {len(names)} classes, '
            f'but {source} has no video of {len(unused)} of them (labels '
            f'{listed}); the class-name file must match the annotation file '
            '(same split, one name per label, in label order).')


def check_episode_settings(class_to_indices: Dict[int, List[int]],
                           num_ways: int, videos_per_class: int, dataset,
                           describe: Callable[[int], str] = str) -> None:
    """Enough classes for N ways and videos for K + Q per class.

    Args:
        class_to_indices (dict): Label -> video indices.
        num_ways (int): N.
        videos_per_class (int): K + Q.
        dataset: The wrapped dataset (for messages).
        describe (Callable): How a label is named in messages.
    """
    source = dataset_source(dataset)
    if num_ways > len(class_to_indices):
        raise ValueError(
            f'EpisodicDataset: num_ways={num_ways} but {source} has only '
            f'{len(class_to_indices)} classes.')
    short = [(label, len(idx))
             for label, idx in sorted(class_to_indices.items())
             if len(idx) < videos_per_class]
    if short:
        listed = ', '.join(f'class {describe(label)}: {count}'
                           for label, count in short[:10])
        more = f' (and {len(short) - 10} more)' if len(short) > 10 else ''
        raise ValueError(
            f'EpisodicDataset: {len(short)} classes of {source} have fewer '
            f'than num_shots + num_queries = {videos_per_class} videos: '
            f'{listed}{more}. Lower num_shots/num_queries or add videos.')


def _not_a_video(info: dict) -> Optional[str]:
    """Why an existing listed path is no video, told without decoding.

    A frame folder (``frame_dir``) must be a folder. A video file
    (``filename``; a folder there is a frame folder) is trusted by a video
    ending (:data:`~.file_kinds.VIDEO_EXTENSIONS`): reading every file would
    slow the start of a large dataset, and ``build_fewshot_ann.py`` decodes
    them all. Other names are judged by their first 512 bytes.
    """
    frame_dir = info.get('frame_dir')
    if frame_dir is not None:
        return None if osp.isdir(frame_dir) else \
            'is a file, not a frame folder'
    path = info.get('filename')
    if path is None or osp.isdir(path) or is_video_name(path):
        return None
    return sniff_non_video(path)


def _listing(items: Sequence[str]) -> str:
    more = f'\n  ... and {len(items) - _MAX_LISTED} more' \
        if len(items) > _MAX_LISTED else ''
    return '\n  '.join(items[:_MAX_LISTED]) + more


def check_files_exist(dataset,
                      describe: Callable[[int], str] = None) -> None:
    """Every listed video (file or frame folder) exists and is one.

    Args:
        dataset: The wrapped dataset.
        describe (Callable, optional): How a video index is named in
            messages, e.g. ``lambda i: f'line {i + 1}'`` when the videos
            are the lines of the annotation file. Defaults to
            ``'video <index>'``.

    Raises:
        FileNotFoundError: Listed paths that do not exist.
        ValueError: Listed paths that are no video: a text file, an image,
            an empty file, a file where a frame folder is expected (see
            :func:`_not_a_video`).
    """
    describe = describe or (lambda index: f'video {index}')
    missing, wrong = [], []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        path = info.get('filename') or info.get('frame_dir')
        if path is None:
            continue
        if not osp.exists(path):
            missing.append(path)
            continue
        reason = _not_a_video(info)
        if reason is not None:
            wrong.append(f'{describe(index)}: {path} {reason}')
    if missing:
        raise FileNotFoundError(
            f'EpisodicDataset: {len(missing)} of {len(dataset)} videos '
            f'listed in {dataset_source(dataset)} do not exist:\n  '
            f'{_listing(missing)}\nCheck data_prefix, or rebuild the '
            'annotation file for the videos you have.')
    if wrong:
        raise ValueError(
            f'EpisodicDataset: {len(wrong)} of {len(dataset)} entries of '
            f'{dataset_source(dataset)} are not videos:\n  {_listing(wrong)}'
            '\nList only video files (or frame folders) there: remove these '
            'lines, or rebuild the annotation file with '
            'tools/data/build_fewshot_ann.py, which checks every video.')
