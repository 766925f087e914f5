# Copyright (c) m2df_mmaction contributors.
"""Few-shot split lists (CLIP-FSAR and TRX formats) → labelled video lists.

Pure functions, no video access. Two list formats are read (see
``data/splits/README.md``):

- CLIP-FSAR, ``<split><idx>/<ssv2 id>`` (SSv2) or
  ``<split><idx>//<relative path>`` (Kinetics-100, UCF101, HMDB51), with
  ``classes_{train,test}.txt`` (``idx<TAB>name``) naming the classes;
- TRX, ``<class name or folder>/<video id>``.

Labels follow the text-table order of the official code (``method.md``
1.4, "class indexing pitfall"): for train and test, label ``i`` is the
class on line ``i`` of the CLIP-FSAR ``classes_<split>.txt`` in *both*
formats (TRX class names are matched to it), so labels and class names
always agree. Validation classes, which the CLIP-FSAR class lists lack, are
labelled by their CLIP-FSAR index (CLIP-FSAR format) or by their rank among
the sorted TRX class names (TRX format, as the TRX loader does), and named
from the class folder, from the TRX list, or, for SSv2, from the official
SSv2 annotation files (``something-something-v2-{train,validation}.json``
give each video's bracketed template).
"""
import glob
import json
import os.path as osp
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

__all__ = [
    'SPLITS', 'FEWSHOT_DATASETS', 'SplitFormatError', 'SplitEntry',
    'FewShotSplit', 'parse_clipfsar_line', 'parse_trx_line',
    'read_clipfsar_list', 'read_trx_list', 'read_class_list',
    'class_name_key', 'folder_to_class_name', 'load_ssv2_json',
    'find_split_files', 'load_fewshot_split'
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

_CLIPFSAR_LINE = re.compile(r'^(train|val|test)(\d+)(//?)(\S.*)$')


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


def _lines(path: str) -> Iterable[Tuple[int, str]]:
    """Yield ``(lineno, stripped line)`` of the non-empty lines."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split list {path} does not exist.')
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if line:
                yield lineno, line


def parse_clipfsar_line(line: str,
                        split: str,
                        source: str = '<string>',
                        lineno: int = 1) -> SplitEntry:
    """Parse ``train8/78687`` or ``test0//videos/Punch/v_Punch_g01.avi``.

    Args:
        line (str): The line, without the newline.
        split (str): The split the list belongs to; the prefix must match.
        source (str): File name for error messages.
        lineno (int): Line number for error messages.

    Returns:
        SplitEntry: ``index`` is the class index of the prefix; ``folder``
        the parent folder of a ``//`` path, ``''`` for an SSv2 id.

    Raises:
        SplitFormatError: If the line does not have this form.

    Example:
        >>> parse_clipfsar_line('train8/78687', 'train').index
        8
        >>> parse_clipfsar_line('val0//v/cartwheel/a.avi', 'val').folder
        'cartwheel'
    """
    match = _CLIPFSAR_LINE.match(line.strip())
    if match is None:
        raise SplitFormatError(
            f'{source}, line {lineno}: {line!r} is not a CLIP-FSAR split '
            f'line ("{split}<class index>/<ssv2 id>" or '
            f'"{split}<class index>//<relative path>").')
    prefix, index, sep, video = match.groups()
    if prefix != split:
        raise SplitFormatError(
            f'{source}, line {lineno}: {line!r} starts with {prefix!r} but '
            f'this is the {split!r} list.')
    if sep == '/':
        if '/' in video:
            raise SplitFormatError(
                f'{source}, line {lineno}: {line!r}: a single "/" is '
                'followed by an SSv2 video id, which has no "/" (use "//" '
                'before a relative path).')
        folder = ''
    else:
        folder = osp.basename(osp.dirname(video))
        if not folder:
            raise SplitFormatError(
                f'{source}, line {lineno}: {line!r}: the path after "//" '
                'has no class folder.')
    return SplitEntry(video=video, folder=folder, index=int(index),
                      lineno=lineno)


def parse_trx_line(line: str,
                   source: str = '<string>',
                   lineno: int = 1) -> SplitEntry:
    """Parse a TRX line ``<class name>/<video id>``.

    The class name may contain spaces; the video id is what follows the last
    ``/``.

    Example:
        >>> parse_trx_line('air drumming/-VtLx-mcPds_000012_000022').folder
        'air drumming'
    """
    folder, sep, video = line.strip().rpartition('/')
    if not sep or not folder.strip() or not video.strip():
        raise SplitFormatError(
            f'{source}, line {lineno}: {line!r} is not a TRX split line '
            '("<class name>/<video id>").')
    return SplitEntry(video=video.strip(), folder=folder.strip(), index=None,
                      lineno=lineno)


def read_clipfsar_list(path: str, split: str) -> List[SplitEntry]:
    """Read a CLIP-FSAR list (``{split}_few_shot.txt``).

    Raises:
        SplitFormatError: On a malformed line or a video listed twice,
            naming the file and line numbers.
    """
    entries = [
        parse_clipfsar_line(line, split, path, lineno)
        for lineno, line in _lines(path)
    ]
    _check_unique(entries, path)
    return entries


def read_trx_list(path: str) -> List[SplitEntry]:
    """Read a TRX list (``{split}listNN.txt``).

    Raises:
        SplitFormatError: On a malformed line or a video listed twice.
    """
    entries = [
        parse_trx_line(line, path, lineno) for lineno, line in _lines(path)
    ]
    _check_unique(entries, path)
    return entries


def _check_unique(entries: Sequence[SplitEntry], path: str) -> None:
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
    for lineno, line in _lines(path):
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


def load_ssv2_json(paths: Sequence[str]) -> Tuple[set, Dict[str, str]]:
    """Read official Something-Something-v2 annotation files.

    Each file is detected by its content: the label file
    (``something-something-v2-labels.json``, ``{"<label>": "<id>"}``, the
    labels without brackets) or a video list
    (``something-something-v2-{train,validation}.json``, a list of
    ``{"id", "label", "template", "placeholders"}`` records; the template
    keeps the brackets, e.g. ``"Putting [something] on a surface"``).

    Args:
        paths (Sequence[str]): Any of these files.

    Returns:
        tuple[set, dict]: The label names of the label file (empty if none
        was given) and ``video id -> template`` from the video lists.
    """
    labels: set = set()
    templates: Dict[str, str] = {}
    for path in paths:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        if isinstance(data, dict):
            labels.update(str(k) for k in data)
        elif isinstance(data, list):
            for i, record in enumerate(data):
                if not (isinstance(record, dict) and 'id' in record
                        and 'template' in record):
                    raise SplitFormatError(
                        f'{path}: record {i} has no "id" and "template"; '
                        'expected an official SSv2 train/validation json.')
                templates[str(record['id'])] = str(record['template'])
        else:
            raise SplitFormatError(
                f'{path}: neither an SSv2 label file (object) nor a video '
                'list (array).')
    return labels, templates


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


def _unanimous(values: Dict[int, List[str]], what: str,
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


def load_fewshot_split(splits_root: str,
                       dataset: str,
                       fmt: str,
                       split: str,
                       ssv2_templates: Optional[Dict[str, str]] = None
                       ) -> FewShotSplit:
    """Labelled videos and class names of one split of a benchmark.

    Args:
        splits_root (str): Folder holding ``<dataset>/<fmt>_format/``.
        dataset (str): One of :data:`FEWSHOT_DATASETS`.
        fmt (str): ``'clipfsar'`` or ``'trx'``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        ssv2_templates (dict, optional): SSv2 ``video id -> template`` (see
            :func:`load_ssv2_json`); names SSv2 validation classes with
            their bracketed templates and checks the train/test names.

    Returns:
        FewShotSplit: Labels follow the CLIP-FSAR class index (train and
        test, both formats) or the validation order described in the
        module docstring.
    """
    if dataset not in FEWSHOT_DATASETS:
        raise ValueError(f'unknown dataset {dataset!r}; choose from '
                         f'{sorted(FEWSHOT_DATASETS)}.')
    if fmt not in FEWSHOT_DATASETS[dataset]:
        raise ValueError(f'{dataset} has no {fmt!r} split lists; formats: '
                         f'{FEWSHOT_DATASETS[dataset]}.')
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}; choose from {SPLITS}.')
    files = find_split_files(splits_root, dataset, fmt)
    path = files[split]
    classes_file = osp.join(splits_root, dataset, 'clipfsar_format',
                            f'classes_{split}.txt')
    known = read_class_list(classes_file) if osp.isfile(
        classes_file) else None
    is_ssv2 = dataset.startswith('ssv2')
    notes: List[str] = []

    if fmt == 'clipfsar':
        entries = read_clipfsar_list(path, split)
        labels = [e.index for e in entries]
        num = max(labels) + 1
        absent = sorted(set(range(num)) - set(labels))
        if absent:
            raise SplitFormatError(
                f'{path}: class indices {absent} have no videos (indices '
                f'run 0..{num - 1}).')
        by_label: Dict[int, List[SplitEntry]] = defaultdict(list)
        for e in entries:
            by_label[e.index].append(e)
        if known is not None:
            if len(known) != num:
                raise SplitFormatError(
                    f'{classes_file} names {len(known)} classes but {path} '
                    f'uses {num}.')
            names = known
            if not is_ssv2:  # the class folder must be the named class
                folders = _unanimous(
                    {k: [e.folder for e in v]
                     for k, v in by_label.items()}, 'class folders', path)
                bad = [(k, folders[k], names[k]) for k in range(num)
                       if class_name_key(folders[k]) !=
                       class_name_key(names[k])]
                if bad:
                    raise SplitFormatError(
                        f'{path} and {classes_file} disagree: (index, '
                        f'folder, name) {bad[:5]}.')
        elif not is_ssv2:
            folders = _unanimous(
                {k: [e.folder for e in v]
                 for k, v in by_label.items()}, 'class folders', path)
            names = [folder_to_class_name(folders[k], dataset)
                     for k in range(num)]
            notes.append(f'{split} class names derived from the class '
                         f'folders of {path}.')
        else:
            names = _ssv2_names_without_list(
                splits_root, dataset, split, path, by_label, ssv2_templates,
                notes)
    else:
        entries = read_trx_list(path)
        trx_classes = sorted({e.folder for e in entries})
        if known is not None:
            index = {class_name_key(n): i for i, n in enumerate(known)}
            unknown = [c for c in trx_classes
                       if class_name_key(c) not in index]
            if unknown or len(trx_classes) != len(known):
                raise SplitFormatError(
                    f'{path} has classes {unknown[:5]} not in '
                    f'{classes_file} ({len(trx_classes)} vs {len(known)} '
                    'classes).')
            names = known
            labels = [index[class_name_key(e.folder)] for e in entries]
        else:
            rank = {c: i for i, c in enumerate(trx_classes)}
            labels = [rank[e.folder] for e in entries]
            if is_ssv2 and ssv2_templates:
                by_label = defaultdict(list)
                for e, label in zip(entries, labels):
                    by_label[label].append(e)
                names = _ssv2_template_names(by_label, ssv2_templates, path,
                                             len(trx_classes))
            else:
                names = [folder_to_class_name(c, dataset)
                         for c in trx_classes]
                if is_ssv2:
                    notes.append(
                        f'{split} class names are the TRX names, WITHOUT the '
                        'brackets of the SSv2 templates; pass the official '
                        'SSv2 train/validation json with --labels to get '
                        'the bracketed templates.')
                else:
                    notes.append(f'{split} class names derived from the '
                                 f'class names of {path}.')

    if is_ssv2 and ssv2_templates and known is not None:
        _check_ssv2_names(entries, labels, names, ssv2_templates, path,
                          notes)
    return FewShotSplit(split=split, class_names=list(names),
                        entries=entries, labels=labels, notes=notes)


def _ssv2_template_names(by_label: Dict[int, List[SplitEntry]],
                         templates: Dict[str, str], path: str,
                         num: int) -> List[str]:
    found = {
        k: [templates[e.video_id] for e in v if e.video_id in templates]
        for k, v in by_label.items()
    }
    lacking = [k for k in range(num) if not found.get(k)]
    if lacking:
        raise SplitFormatError(
            f'{path}: no video of classes {lacking} is in the SSv2 '
            'train/validation json given; pass both files.')
    names = _unanimous(found, 'SSv2 templates', path)
    return [names[k] for k in range(num)]


def _ssv2_names_without_list(splits_root: str, dataset: str, split: str,
                             path: str,
                             by_label: Dict[int, List[SplitEntry]],
                             templates: Optional[Dict[str, str]],
                             notes: List[str]) -> List[str]:
    """SSv2 CLIP-FSAR validation names: json templates, else TRX names."""
    num = len(by_label)
    if templates:
        return _ssv2_template_names(by_label, templates, path, num)
    if 'trx' in FEWSHOT_DATASETS[dataset]:
        trx_path = find_split_files(splits_root, dataset, 'trx')[split]
        trx_class = {e.video: e.folder for e in read_trx_list(trx_path)}
        found = {
            k: [trx_class[e.video] for e in v if e.video in trx_class]
            for k, v in by_label.items()
        }
        lacking = [k for k in range(num) if not found.get(k)]
        if lacking:
            raise SplitFormatError(
                f'{path}: classes {lacking} have no video in {trx_path}.')
        names = _unanimous(found, 'TRX classes', trx_path)
        notes.append(
            f'{split} class names taken from {trx_path}: the TRX names, '
            'WITHOUT the brackets of the SSv2 templates; pass the official '
            'SSv2 train/validation json with --labels to get the bracketed '
            'templates.')
        return [names[k] for k in range(num)]
    raise SplitFormatError(
        f'{path}: the {split} classes of {dataset} have no names in the '
        'split lists. Pass the official SSv2 '
        'something-something-v2-{train,validation}.json with --labels, or '
        'leave this split out.')


def _check_ssv2_names(entries: Sequence[SplitEntry], labels: Sequence[int],
                      names: Sequence[str], templates: Dict[str, str],
                      path: str, notes: List[str]) -> None:
    """Compare the class list with the official templates of its videos."""
    wrong: Counter = Counter()
    checked = 0
    for e, label in zip(entries, labels):
        template = templates.get(e.video_id)
        if template is None:
            continue
        checked += 1
        if class_name_key(template) != class_name_key(names[label]):
            wrong[(label, names[label], template)] += 1
    if wrong:
        worst = '; '.join(f'label {k[0]} {k[1]!r} vs {k[2]!r} ({n}x)'
                          for k, n in wrong.most_common(5))
        notes.append(f'WARNING: {sum(wrong.values())} of {checked} videos '
                     f'of {path} have an official SSv2 template that is not '
                     f'their class name: {worst}.')
    else:
        notes.append(f'checked {checked} videos of {path} against the '
                     'official SSv2 templates: all match their class name.')
