# Copyright (c) m2df_mmaction contributors.
"""A support set: a few labelled example clips of each new class."""
import logging
import os
import os.path as osp
from collections import OrderedDict
from typing import (Dict, List, Mapping, NamedTuple, Optional, Sequence,
                    Tuple, Union)

from mmengine.logging import print_log
from torch import Tensor

from m2df_mmaction.datasets import load_class_names
from m2df_mmaction.datasets.annotation_check import check_annotation_file
from m2df_mmaction.datasets.file_kinds import (VIDEO_EXTENSIONS,
                                               non_video_name,
                                               sniff_non_video)

__all__ = [
    'SupportSet', 'VIDEO_EXTENSIONS', 'SupportLike', 'list_clips',
    'FittedSupport'
]

_MAX_LISTED = 20


def _folder_files(folder: str) -> Tuple[List[str], List[Tuple[str, str]]]:
    """The clips of a folder, and the files that are certainly no clips.

    Hidden entries (names starting with ``.``: ``.DS_Store``, macOS's
    ``._clip.mp4``) and sub-folders are not looked at. A file is a clip if
    its name ends with a video ending (:data:`VIDEO_EXTENSIONS`); it is no
    clip if its name says so (``notes.txt``, ``cover.jpg``, ``Thumbs.db``)
    or, for other names, its first bytes do (a text file, an image); any
    other file is taken as a clip, which :class:`ClipLoader` checks before
    decoding anything.

    Args:
        folder (str): The folder.

    Returns:
        tuple[list[str], list[tuple[str, str]]]: The clips, sorted by name;
        and ``(path, what it is)`` of the files left out.
    """
    clips, ignored = [], []
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if name.startswith('.') or osp.isdir(path):
            continue
        if name.lower().endswith(VIDEO_EXTENSIONS):
            clips.append(path)
            continue
        kind = non_video_name(name)
        if kind is None:  # e.g. 'README': what do its first bytes say?
            sniffed = sniff_non_video(path)
            kind = sniffed[len('is '):] if sniffed else None
        else:
            kind = f'{"an" if kind[0] in "aeiou" else "a"} {kind}'
        if kind is None:
            clips.append(path)
        else:
            ignored.append((path, kind))
    return clips, ignored


def _note_ignored(where: str, ignored: Sequence[Tuple[str, str]]) -> None:
    """Log, once, the files of a folder that were not taken as clips."""
    if not ignored:
        return
    listed = [f'{path}: {kind}' for path, kind in ignored]
    print_log(
        f'{where}: left out {len(ignored)} files that are not video clips:'
        f'\n{_listing(listed)}\nClips are the files ending in '
        f'{", ".join(VIDEO_EXTENSIONS)}; move other files elsewhere to '
        'silence this note.',
        logger='current',
        level=logging.WARNING)


def list_clips(inputs: Union[str, os.PathLike, Sequence[str]]) -> List[str]:
    """Clip paths; a folder stands for its video files, sorted by name.

    Files of a folder that are not clips (``notes.txt``, images, hidden
    files) are left out, and named in one logged note (hidden ones
    excepted); see :func:`_folder_files`.

    Args:
        inputs (str | Sequence[str]): Clips and folders of clips.

    Returns:
        list[str]: The clips, in the given order.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = []
    for item in inputs:
        item = os.fspath(item)
        if osp.isdir(item):
            clips, ignored = _folder_files(item)
            _note_ignored(f'Folder {item!r}', ignored)
            paths += clips
        else:
            paths.append(item)
    return paths


def _listing(items: Sequence[str]) -> str:
    """Up to 20 items, one per line, and how many more."""
    text = '\n  '.join(items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        text += f'\n  ... and {len(items) - _MAX_LISTED} more'
    return '  ' + text


class SupportSet:
    """Example clips of ``N >= 2`` classes, ``K >= 1`` clips each.

    The class names double as the text the text-using heads (CLIP-FSAR,
    CLIP-M2DF) encode, so name classes as you would describe them (e.g.
    ``'pushing something from left to right'``).

    Every class must have the same number of clips: the heads average ``K``
    supports per class (:func:`class_prototypes`), and a class with more
    examples would otherwise need a different prototype rule. A support set
    with unequal counts is refused with the count of every class.

    The structure is checked here (classes, counts); whether each clip can
    be read is checked by :class:`ClipLoader` when the set is fitted.

    Args:
        clips (Mapping[str, Sequence[str]]): ``{class name: [clip paths]}``;
            the classes keep this order (episode labels ``0..N-1``).
        source (str, optional): Where the set came from (a folder or an
            annotation file), for error messages. Defaults to None.

    Example:
        >>> support = SupportSet({'waving': ['w1.mp4', 'w2.mp4'],
        ...                       'clapping': ['c1.mp4', 'c2.mp4']})
        >>> support.num_ways, support.num_shots, support.class_names
        (2, 2, ['waving', 'clapping'])
        >>> support.clip_list()[2]
        ('c1.mp4', 'clapping')
    """

    def __init__(self,
                 clips: Mapping[str, Sequence[str]],
                 source: Optional[str] = None) -> None:
        if not isinstance(clips, Mapping):
            raise TypeError('A support set is {class name: [clip paths]}, '
                            f'got {type(clips).__name__}.')
        self.source = source
        self.clips: Dict[str, List[str]] = OrderedDict()
        for name, paths in clips.items():
            name = str(name).strip()
            if not name:
                raise ValueError(f'{self._where}an empty class name.')
            if name in self.clips:
                raise ValueError(
                    f'{self._where}class {name!r} is given twice.')
            if isinstance(paths, (str, os.PathLike)):
                paths = [paths]  # one clip given bare
            self.clips[name] = [os.fspath(p) for p in paths]
        self._check()

    @property
    def _where(self) -> str:
        return f'Support set {self.source}: ' if self.source else \
            'Support set: '

    def _check(self) -> None:
        if len(self.clips) < 2:
            found = ', '.join(repr(c) for c in self.clips) or 'none'
            raise ValueError(
                f'{self._where}few-shot recognition needs at least 2 '
                f'classes, found {len(self.clips)} ({found}).')
        empty = [name for name, paths in self.clips.items() if not paths]
        if empty:
            raise ValueError(
                f'{self._where}{len(empty)} classes have no clips: '
                f'{", ".join(repr(c) for c in empty)}. Add at least one '
                'clip to each class or remove the class.')
        counts = {name: len(paths) for name, paths in self.clips.items()}
        if len(set(counts.values())) > 1:
            listed = ', '.join(f'{name!r}: {count}'
                               for name, count in counts.items())
            fewest = min(counts.values())
            raise ValueError(
                f'{self._where}every class needs the same number of clips '
                f'(the heads average K clips per class into a prototype), '
                f'got {listed}. Use {fewest} clips of each class, or add '
                'clips to the smaller classes.')

    # ------------------------------------------------------------------
    # constructors
    # ------------------------------------------------------------------
    @classmethod
    def from_folder(cls,
                    root: str,
                    extensions: Sequence[str] = VIDEO_EXTENSIONS
                    ) -> 'SupportSet':
        """One sub-folder per class, named as the class, holding its clips.

        Classes are sorted by folder name, clips by file name. Hidden entries
        (names starting with ``.``) are ignored. Files that are certainly no
        clips (by their name, ``notes.txt``, ``cover.jpg``, ``Thumbs.db``,
        or for other names by their first bytes: text, images) are left
        out and named in one logged note; every other file in a class
        folder is a clip (one that is not a readable video is reported when
        the set is fitted, never skipped). A class folder holding
        sub-folders, or video files lying directly in ``root``, are refused
        as a wrong layout.

        Args:
            root (str): The folder.
            extensions (Sequence[str]): Endings of video files, used to
                recognise misplaced clips directly in ``root``.

        Returns:
            SupportSet: The set; ``source`` is ``root``.
        """
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'Support folder {root!r} does not exist (expected one '
                'sub-folder of clips per class).')
        entries = sorted(e for e in os.listdir(root) if not e.startswith('.'))
        folders = [e for e in entries if osp.isdir(osp.join(root, e))]
        loose = [
            osp.join(root, e) for e in entries
            if osp.isfile(osp.join(root, e)) and e.lower().endswith(
                tuple(extensions))
        ]
        if loose:
            raise ValueError(
                f'Support folder {root!r}: {len(loose)} clips lie directly in '
                'it; put the clips of each class in a sub-folder named as '
                f'the class:\n{_listing(loose)}')
        clips = OrderedDict()
        nested, ignored = [], []
        for folder in folders:
            path = osp.join(root, folder)
            nested += [
                osp.join(path, n) for n in sorted(os.listdir(path))
                if not n.startswith('.') and osp.isdir(osp.join(path, n))
            ]
            clips[folder], left_out = _folder_files(path)
            ignored += left_out
        if nested:
            raise ValueError(
                f'Support folder {root!r}: class folders must hold clip '
                f'files, not folders; found:\n{_listing(nested)}')
        _note_ignored(f'Support folder {root!r}', ignored)
        return cls(clips, source=root)

    @classmethod
    def from_annotation(cls,
                        ann_file: str,
                        class_names: Union[str, Sequence[str]],
                        data_prefix: Optional[str] = None) -> 'SupportSet':
        """An annotation file in the ``VideoDataset`` format and class names.

        Args:
            ann_file (str): Lines ``<clip path> <label>``, the format of the
                project's annotation files.
            class_names (str | Sequence[str]): A file with one name per line
                (line ``i`` names label ``i``), or the names.
            data_prefix (str, optional): Folder the clip paths are relative
                to (as ``data_prefix=dict(video=...)`` of a
                ``VideoDataset``). Defaults to None: the folder of
                ``ann_file``. Absolute paths are kept.

        Returns:
            SupportSet: Classes in label order; ``source`` is ``ann_file``.
        """
        check_annotation_file(ann_file, 'VideoDataset')
        names = load_class_names(class_names)
        if data_prefix is None:
            data_prefix = osp.dirname(osp.abspath(ann_file))
        clips: Dict[str, List[str]] = OrderedDict((n, []) for n in names)
        with open(ann_file) as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                path, label = line.split()
                label = int(label)
                if label >= len(names):
                    raise ValueError(
                        f'{ann_file}, line {lineno}: label {label}, but the '
                        f'class names list only {len(names)} classes (labels '
                        f'0..{len(names) - 1}).')
                clips[names[label]].append(osp.join(data_prefix, path))
        return cls(clips, source=ann_file)

    @classmethod
    def build(cls, support: 'SupportLike') -> 'SupportSet':
        """A :class:`SupportSet` from any of the accepted forms.

        Args:
            support (SupportSet | dict | str): A set, ``{class name: [clip
                paths]}`` or a folder with one sub-folder per class.

        Returns:
            SupportSet: The set.
        """
        if isinstance(support, SupportSet):
            return support
        if isinstance(support, (str, os.PathLike)):
            return cls.from_folder(os.fspath(support))
        return cls(support)

    # ------------------------------------------------------------------
    # what the model needs
    # ------------------------------------------------------------------
    @property
    def class_names(self) -> List[str]:
        """list[str]: The ``N`` class names, in label order."""
        return list(self.clips)

    @property
    def num_ways(self) -> int:
        """int: N."""
        return len(self.clips)

    @property
    def num_shots(self) -> int:
        """int: K."""
        return len(next(iter(self.clips.values())))

    def clip_list(self) -> List[Tuple[str, str]]:
        """``(path, class name)`` of every clip, way-major (support ``j`` is
        of class ``j // K``), the order of an episode's supports."""
        return [(path, name) for name, paths in self.clips.items()
                for path in paths]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.num_ways}-way '
                f'{self.num_shots}-shot: {self.class_names})')


SupportLike = Union[SupportSet, Mapping[str, Sequence[str]], str]


class FittedSupport(NamedTuple):
    """A support set and the frame features of its clips.

    Attributes:
        support_set (SupportSet): The classes and clips.
        feats (Tensor): ``[N*K, T, D]`` frame features, way-major, on the
            model's device.
        extra (dict[str, Tensor]): The richer kinds the head declares
            (``spatial``, ``tokens/<layer>``, ``raw_frames``),
            ``[N*K, T, ...]``; empty for heads that read pooled frames.
    """
    support_set: SupportSet
    feats: Tensor
    extra: Dict[str, Tensor] = {}
