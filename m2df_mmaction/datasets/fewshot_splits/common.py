# Copyright (c) m2df_mmaction contributors.
"""What the split-list formats share: entries, splits, class lists, names."""
import glob
import os.path as osp
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

__all__ = [
    'SPLITS', 'FEWSHOT_DATASETS', 'SplitFormatError', 'SplitEntry',
    'FewShotSplit', 'lines_of', 'check_unique', 'read_class_list',
    'class_name_key', 'folder_to_class_name', 'find_split_files',
    'unanimous'
]

SPLITS: Tuple[str, ...] = ('train', 'val', 'test')

# dataset -> list formats shipped in data/splits/<dataset>/
FEWSHOT_DATASETS: Dict[str, Tuple[str, ...]] = {
    'ssv2_full': ('clipfsar', ),
    'ssv2_small': ('clipfsar', 'trx'),
    'kinetics100': ('clipfsar', 'trx'),
    'ucf101': ('clipfsar', 'trx'),
    'hmdb51': ('clipfsar', 'trx'),
}


class SplitFormatError(ValueError):
    """A malformed split or class list; the message names file and line."""


@dataclass(frozen=True)
class SplitEntry:
    """One line of a split list.

    Attributes:
        video (str): The SSv2 id, the relative path (CLIP-FSAR) or the video
            id without extension (TRX), as written in the list.
        folder (str): The class folder or TRX class name; ``''`` for
            CLIP-FSAR SSv2 lines, which name no class.
        index (int, optional): The CLIP-FSAR class index; None for TRX.
        lineno (int): 1-based line number in the list.
    """

    video: str
    folder: str
    index: Optional[int]
    lineno: int

    @property
    def video_id(self) -> str:
        """The file name without folders and extension."""
        return osp.splitext(osp.basename(self.video))[0]


@dataclass
class FewShotSplit:
    """The videos and class names of one split.

    Attributes:
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        class_names (list[str]): Line ``i`` names label ``i``.
        entries (list[SplitEntry]): The videos, in list order.
        labels (list[int]): The label of each entry.
        notes (list[str]): Things the caller should print (for example a
            fallback that was used for class names).
    """

    split: str
    class_names: List[str]
    entries: List[SplitEntry]
    labels: List[int]
    notes: List[str] = field(default_factory=list)

    def videos_per_class(self) -> List[int]:
        """Number of videos of each label."""
        counts = Counter(self.labels)
        return [counts.get(i, 0) for i in range(len(self.class_names))]


def lines_of(path: str) -> Iterable[Tuple[int, str]]:
    """Yield ``(lineno, stripped line)`` of the non-empty lines."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split list {path} does not exist.')
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if line:
                yield lineno, line


def check_unique(entries: Sequence[SplitEntry], path: str) -> None:
    seen: Dict[Tuple[str, str], int] = {}
    for entry in entries:
        key = (entry.folder, entry.video)
        if key in seen:
            raise SplitFormatError(
                f'{path}, line {entry.lineno}: {entry.video!r} repeats line '
                f'{seen[key]}.')
        seen[key] = entry.lineno


def read_class_list(path: str) -> List[str]:
    """Read ``classes_{train,test}.txt``: ``index<TAB>name`` lines.

    Returns:
        list[str]: ``names[i]`` is the class of index ``i``.

    Raises:
        SplitFormatError: On a malformed line, an index out of order or a
            repeated name, naming the file and line.
    """
    names: List[str] = []
    seen: Dict[str, int] = {}
    for lineno, line in lines_of(path):
        index, sep, name = line.partition('\t')
        name = name.strip()
        if not sep or not index.strip().isdigit() or not name:
            raise SplitFormatError(
                f'{path}, line {lineno}: {line!r} is not '
                '"<index><TAB><class name>".')
        if int(index) != len(names):
            raise SplitFormatError(
                f'{path}, line {lineno}: index {int(index)} where '
                f'{len(names)} was expected (indices run 0, 1, 2, ... in '
                'order).')
        if name in seen:
            raise SplitFormatError(
                f'{path}, line {lineno}: class {name!r} repeats line '
                f'{seen[name]}.')
        seen[name] = lineno
        names.append(name)
    if not names:
        raise SplitFormatError(f'{path}: no classes.')
    return names


def class_name_key(name: str) -> str:
    """A key that matches the spellings of one class across lists.

    Lower case, letters and digits only, so that ``'Blow DryHair'``,
    ``'BlowDryHair'``, ``'draw_sword'``/``'draw sword'`` and
    ``'Poking [something]'``/``'Poking something'`` match.

    Example:
        >>> class_name_key('Cutting in Kitchen') == class_name_key(
        ...     'CuttingInKitchen')
        True
    """
    return re.sub(r'[^0-9a-z]', '', name.lower())


def folder_to_class_name(folder: str, dataset: str) -> str:
    """A readable class name from a class folder or TRX class name.

    UCF101 folders are CamelCase (``ApplyLipstick`` → ``Apply Lipstick``);
    Kinetics and HMDB51 folders use ``_`` for spaces. SSv2 names are kept.
    """
    if dataset == 'ucf101':
        return re.sub(r'(?<=[a-z])(?=[A-Z])', ' ', folder).strip()
    if dataset in ('kinetics100', 'hmdb51'):
        return folder.replace('_', ' ').strip()
    return folder


def find_split_files(splits_root: str, dataset: str,
                     fmt: str) -> Dict[str, str]:
    """The list file of each split, e.g. ``{'train': '.../trainlist03.txt'}``.

    Raises:
        FileNotFoundError: If the dataset/format folder or a list is
            missing, or a TRX folder holds several lists of one split.
    """
    folder = osp.join(splits_root, dataset, f'{fmt}_format')
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{folder} does not exist: no {fmt!r} split lists for '
            f'{dataset!r} under {splits_root}.')
    files = {}
    for split in SPLITS:
        if fmt == 'clipfsar':
            found = [osp.join(folder, f'{split}_few_shot.txt')]
            found = [p for p in found if osp.isfile(p)]
        else:
            found = sorted(glob.glob(osp.join(folder, f'{split}list*.txt')))
        if len(found) != 1:
            raise FileNotFoundError(
                f'{folder}: expected one {split} list, found '
                f'{len(found)}: {found}.')
        files[split] = found[0]
    return files


def unanimous(values: Dict[int, List[str]], what: str,
              source: str) -> Dict[int, str]:
    """The single value of each key, or an error naming the conflict."""
    out = {}
    for key, vals in values.items():
        counts = Counter(vals)
        if len(counts) != 1:
            raise SplitFormatError(
                f'{source}: class {key} has videos of different {what}: '
                f'{dict(counts.most_common(5))}.')
        out[key] = next(iter(counts))
    return out
