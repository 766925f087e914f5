# Copyright (c) m2df_mmaction contributors.
"""SSv2 class names: the official annotation files' bracketed templates."""
import json
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from .common import (FEWSHOT_DATASETS, SplitEntry, SplitFormatError,
                     class_name_key, find_split_files, unanimous)

__all__ = ['load_ssv2_json', 'template_names', 'names_without_list',
           'check_names']


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


def template_names(by_label: Dict[int, List[SplitEntry]],
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
    names = unanimous(found, 'SSv2 templates', path)
    return [names[k] for k in range(num)]


def names_without_list(splits_root: str, dataset: str, split: str,
                       path: str, by_label: Dict[int, List[SplitEntry]],
                       templates: Optional[Dict[str, str]],
                       notes: List[str]) -> List[str]:
    """SSv2 CLIP-FSAR validation names: json templates, else TRX names."""
    num = len(by_label)
    if templates:
        return template_names(by_label, templates, path, num)
    if 'trx' in FEWSHOT_DATASETS[dataset]:
        from .trx import read_trx_list  # trx names SSv2 classes via us
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
        names = unanimous(found, 'TRX classes', trx_path)
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


def check_names(entries: Sequence[SplitEntry], labels: Sequence[int],
                names: Sequence[str], templates: Dict[str, str], path: str,
                notes: List[str]) -> None:
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
