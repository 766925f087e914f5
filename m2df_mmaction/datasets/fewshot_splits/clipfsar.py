# Copyright (c) m2df_mmaction contributors.
"""CLIP-FSAR split lists: ``<split><idx>/<ssv2 id>`` (SSv2) or
``<split><idx>//<relative path>`` (Kinetics-100, UCF101, HMDB51), with
``classes_{train,test}.txt`` naming the indices."""
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from . import ssv2
from .common import (SplitEntry, SplitFormatError, check_unique,
                     class_name_key, folder_to_class_name, lines_of, unanimous)

__all__ = ['parse_clipfsar_line', 'read_clipfsar_list', 'label_clipfsar']

_CLIPFSAR_LINE = re.compile(r'^(train|val|test)(\d+)(//?)(\S.*)$')


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


def read_clipfsar_list(path: str, split: str) -> List[SplitEntry]:
    """Read a CLIP-FSAR list (``{split}_few_shot.txt``).

    Raises:
        SplitFormatError: On a malformed line or a video listed twice,
            naming the file and line numbers.
    """
    entries = [
        parse_clipfsar_line(line, split, path, lineno)
        for lineno, line in lines_of(path)
    ]
    check_unique(entries, path)
    return entries


def label_clipfsar(path: str, split: str, dataset: str,
                   known: Optional[List[str]], classes_file: str,
                   splits_root: str,
                   ssv2_templates: Optional[Dict[str, str]]
                   ) -> Tuple[List[SplitEntry], List[int], List[str],
                              List[str]]:
    """Entries, labels, class names and notes of a CLIP-FSAR list.

    Labels are the class indices of the lines; names come from
    ``classes_file`` (``known``), else from the class folders, else (SSv2
    validation) from the SSv2 templates or the TRX list.
    """
    notes: List[str] = []
    entries = read_clipfsar_list(path, split)
    labels = [e.index for e in entries]
    num = max(labels) + 1
    absent = sorted(set(range(num)) - set(labels))
    if absent:
        raise SplitFormatError(
            f'{path}: class indices {absent} have no videos (indices run '
            f'0..{num - 1}).')
    by_label: Dict[int, List[SplitEntry]] = defaultdict(list)
    for e in entries:
        by_label[e.index].append(e)
    is_ssv2 = dataset.startswith('ssv2')
    if known is not None:
        if len(known) != num:
            raise SplitFormatError(
                f'{classes_file} names {len(known)} classes but {path} uses '
                f'{num}.')
        names = known
        if not is_ssv2:  # the class folder must be the named class
            folders = unanimous(
                {k: [e.folder for e in v]
                 for k, v in by_label.items()}, 'class folders', path)
            bad = [(k, folders[k], names[k]) for k in range(num)
                   if class_name_key(folders[k]) != class_name_key(names[k])]
            if bad:
                raise SplitFormatError(
                    f'{path} and {classes_file} disagree: (index, folder, '
                    f'name) {bad[:5]}.')
    elif not is_ssv2:
        folders = unanimous(
            {k: [e.folder for e in v]
             for k, v in by_label.items()}, 'class folders', path)
        names = [folder_to_class_name(folders[k], dataset)
                 for k in range(num)]
        notes.append(f'{split} class names derived from the class folders '
                     f'of {path}.')
    else:
        names = ssv2.names_without_list(splits_root, dataset, split, path,
                                        by_label, ssv2_templates, notes)
    return entries, labels, names, notes
