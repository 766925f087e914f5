# Copyright (c) m2df_mmaction contributors.
"""The split lists of ``tools/data/build_fewshot_ann.py``, in memory.

:class:`SplitData` holds the class names and listed videos (:class:`Item`)
of one split; :func:`custom_splits` lists a folder-per-class dataset;
:func:`drop_and_check` leaves out the videos that failed verification and
refuses classes left with too few videos for the standard episodes
(:data:`STANDARD_SETTINGS`); :func:`write_report` and :func:`summarize`
report the problems.
"""
import csv
import os
import os.path as osp
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .fewshot_splits import SPLITS
from .video_check import PROBLEMS

__all__ = ['STANDARD_SETTINGS', 'Item', 'SplitData', 'custom_splits',
           'limit_splits', 'write_report', 'summarize', 'drop_and_check']

# Videos a class needs per episode (K + Q) in the standard settings:
# 5-way 1-shot and 5-shot, 5 queries per class in training, 1 in testing.
STANDARD_SETTINGS = {
    'train': (('1-shot', 1 + 5), ('5-shot', 5 + 5)),
    'val': (('1-shot', 1 + 1), ('5-shot', 5 + 1)),
    'test': (('1-shot', 1 + 1), ('5-shot', 5 + 1)),
}


@dataclass
class Item:
    """One listed video: its label, class name and path under the root."""

    label: int
    class_name: str
    path: str


@dataclass
class SplitData:
    """The class names and videos of one split."""

    class_names: List[str]
    items: List[Item]


def custom_splits(root: str,
                  splits: Sequence[str],
                  exts: Sequence[str],
                  rawframes: bool = False,
                  class_splits: Optional[str] = None,
                  split_ratio: str = '64,12,24',
                  seed: int = 0) -> Tuple[Dict[str, SplitData], dict]:
    """Your own dataset: ``root/<class>/<videos>`` and a class split.

    Args:
        root (str): One folder per class (its name is the class name,
            ``_`` read as a space), videos anywhere below it.
        splits (Sequence[str]): The splits to list.
        exts (Sequence[str]): Video file extensions (lower case).
        rawframes (bool): List the frame folders of each class instead.
        class_splits (str, optional): json/yaml file mapping
            train/val/test to class folder names.
        split_ratio (str): Otherwise a seeded split in these proportions.
        seed (int): Its seed.

    Returns:
        tuple: ``split -> SplitData`` and ``split -> [class folders]``.
    """
    classes = sorted(d for d in os.listdir(root)
                     if osp.isdir(osp.join(root, d)))
    if not classes:
        raise SystemExit(f'error: {root} has no class folders.')
    if class_splits:
        from mmengine.fileio import load
        spec = load(class_splits)
        if not isinstance(spec, dict) or set(spec) - set(SPLITS):
            raise SystemExit(
                f'error: {class_splits} must map some of {SPLITS} to '
                'lists of class folder names.')
        assigned = {s: list(spec.get(s, [])) for s in SPLITS}
        unknown = [c for s in SPLITS for c in assigned[s]
                   if c not in classes]
        if unknown:
            raise SystemExit(f'error: {class_splits} names class '
                             f'folders that are not in {root}: {unknown}')
        counts = Counter(c for s in SPLITS for c in assigned[s])
        twice = [c for c, n in counts.items() if n > 1]
        if twice:
            raise SystemExit(f'error: {class_splits} puts classes in '
                             f'several splits: {twice}')
    else:
        ratio = [float(x) for x in split_ratio.split(',')]
        if len(ratio) != 3 or min(ratio) < 0 or sum(ratio) <= 0:
            raise SystemExit('error: --split-ratio takes three non-negative '
                             'numbers, e.g. 64,12,24.')
        order = np.random.default_rng(seed).permutation(len(classes))
        bounds = np.round(np.cumsum(ratio) / sum(ratio) *
                          len(classes)).astype(int)
        starts = [0, *bounds[:-1]]
        assigned = {
            s: sorted(classes[i] for i in order[a:b])
            for s, a, b in zip(SPLITS, starts, bounds)
        }
    out = {}
    for split in splits:
        names = sorted(assigned[split])
        if not names:
            print(f'note: {split} has no classes: the dataset config has no '
                  f'{split} split' + ('; validation is off.'
                                      if split == 'val' else '.'))
        elif len(names) < 5:
            print(f'WARNING: {split} has {len(names)} classes: '
                  f'{len(names)}-way episodes, not 5-way.')
        items = []
        for label, folder in enumerate(names):
            class_dir = osp.join(root, folder)
            if rawframes:
                videos = sorted(d for d in os.listdir(class_dir)
                                if osp.isdir(osp.join(class_dir, d)))
            else:
                videos = sorted(
                    osp.relpath(osp.join(dp, f), class_dir)
                    for dp, _, files in os.walk(class_dir) for f in files
                    if osp.splitext(f)[1].lower() in exts)
            if not videos:
                print(f'WARNING: class folder {class_dir} has no videos.')
            items += [
                Item(label, folder.replace('_', ' '),
                     f'{folder}/{v}'.replace(os.sep, '/')) for v in videos
            ]
        out[split] = SplitData([n.replace('_', ' ') for n in names], items)
    return out, assigned


def limit_splits(data: Dict[str, SplitData], max_classes: Optional[int],
                 max_videos: Optional[int]) -> None:
    """Keep the first classes / videos per class (for smoke tests)."""
    for split, sd in data.items():
        if max_classes is not None:
            sd.class_names = sd.class_names[:max_classes]
            sd.items = [i for i in sd.items if i.label < max_classes]
        if max_videos is not None:
            seen: Counter = Counter()
            kept = []
            for item in sd.items:
                seen[item.label] += 1
                if seen[item.label] <= max_videos:
                    kept.append(item)
            sd.items = kept


def write_report(path: str, problems) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['split', 'class', 'video', 'problem', 'detail'])
        for split, item, problem, detail in problems:
            writer.writerow([split, item.class_name, item.path, problem,
                             detail])


def summarize(problems, total: int, report: str) -> str:
    by_kind = Counter(p[2] for p in problems)
    by_split = Counter(p[0] for p in problems)
    kinds = ', '.join(f'{k} {by_kind[k]}' for k in PROBLEMS if by_kind[k])
    splits = ', '.join(f'{s} {by_split[s]}' for s in SPLITS if by_split[s])
    return (f'{len(problems)} of {total} listed videos have problems '
            f'(report: {report}):\n  by problem: {kinds}\n  by split: '
            f'{splits}')


def drop_and_check(data: Dict[str, SplitData], problems,
                   min_videos: Optional[int]) -> List[str]:
    """Leave out the bad videos, print them per class; return refusals."""
    bad = defaultdict(dict)
    for split, item, problem, _ in problems:
        bad[split][id(item)] = problem
    refusals = []
    for split, sd in data.items():
        total = Counter(i.label for i in sd.items)
        dropped = defaultdict(list)
        for item in sd.items:
            if id(item) in bad[split]:
                dropped[item.label].append(
                    f'{item.path} ({bad[split][id(item)]})')
        sd.items = [i for i in sd.items if id(i) not in bad[split]]
        left = Counter(i.label for i in sd.items)
        settings = STANDARD_SETTINGS[split]
        need = min_videos if min_videos is not None else max(
            n for _, n in settings)
        num_dropped = sum(len(v) for v in dropped.values())
        print(f'{split}: dropped {num_dropped} of '
              f'{sum(total.values())} videos')
        for label, name in enumerate(sd.class_names):
            ok = ', '.join(f'{s} {"ok" if left[label] >= n else "TOO FEW"}'
                           for s, n in settings)
            if dropped[label] or left[label] < need:
                print(f'  class {label} {name!r}: dropped '
                      f'{len(dropped[label])}, {left[label]} left '
                      f'(5-way {ok}; minimum {need})')
                for line in dropped[label]:
                    print(f'    - {line}')
            if left[label] < need:
                refusals.append(f'{split} class {label} {name!r} has '
                                f'{left[label]} videos < {need}')
    return refusals
