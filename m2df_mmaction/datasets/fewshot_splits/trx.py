# Copyright (c) m2df_mmaction contributors.
"""TRX split lists: ``<class name or folder>/<video id>``."""
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from . import ssv2
from .common import (SplitEntry, SplitFormatError, check_unique,
                     class_name_key, folder_to_class_name, lines_of)

__all__ = ['parse_trx_line', 'read_trx_list', 'label_trx']


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


def read_trx_list(path: str) -> List[SplitEntry]:
    """Read a TRX list (``{split}listNN.txt``).

    Raises:
        SplitFormatError: On a malformed line or a video listed twice.
    """
    entries = [
        parse_trx_line(line, path, lineno) for lineno, line in lines_of(path)
    ]
    check_unique(entries, path)
    return entries


def label_trx(path: str, split: str, dataset: str,
              known: Optional[List[str]], classes_file: str,
              ssv2_templates: Optional[Dict[str, str]]
              ) -> Tuple[List[SplitEntry], List[int], List[str], List[str]]:
    """Entries, labels, class names and notes of a TRX list.

    With the CLIP-FSAR class list (``known``) the TRX class names are
    matched to it, so labels follow the official text-table order; else
    labels are the rank of the sorted TRX class names (the TRX loader's).
    """
    notes: List[str] = []
    entries = read_trx_list(path)
    trx_classes = sorted({e.folder for e in entries})
    if known is not None:
        index = {class_name_key(n): i for i, n in enumerate(known)}
        unknown = [c for c in trx_classes if class_name_key(c) not in index]
        if unknown or len(trx_classes) != len(known):
            raise SplitFormatError(
                f'{path} has classes {unknown[:5]} not in {classes_file} '
                f'({len(trx_classes)} vs {len(known)} classes).')
        labels = [index[class_name_key(e.folder)] for e in entries]
        return entries, labels, known, notes
    rank = {c: i for i, c in enumerate(trx_classes)}
    labels = [rank[e.folder] for e in entries]
    is_ssv2 = dataset.startswith('ssv2')
    if is_ssv2 and ssv2_templates:
        by_label: Dict[int, List[SplitEntry]] = defaultdict(list)
        for e, label in zip(entries, labels):
            by_label[label].append(e)
        names = ssv2.template_names(by_label, ssv2_templates, path,
                                    len(trx_classes))
    else:
        names = [folder_to_class_name(c, dataset) for c in trx_classes]
        if is_ssv2:
            notes.append(
                f'{split} class names are the TRX names, WITHOUT the '
                'brackets of the SSv2 templates; pass the official SSv2 '
                'train/validation json with --labels to get the bracketed '
                'templates.')
        else:
            notes.append(f'{split} class names derived from the class '
                         f'names of {path}.')
    return entries, labels, names, notes
