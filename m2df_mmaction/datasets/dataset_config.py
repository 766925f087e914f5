# Copyright (c) m2df_mmaction contributors.
"""The dataset config that ``tools/data/build_fewshot_ann.py`` writes.

``OUT/dataset_config.py`` holds what differs between datasets and nothing
of a method: where the annotation and class-name files are, whether the
clips are read from videos or from extracted frames, and how many classes
and videos each split has (so the episode settings can be fitted to them).
Any method config uses it through one top-level key, read by
:func:`m2df_mmaction.utils.apply_fewshot_dataset`::

    python tools/test.py CONFIG CKPT \\
        --cfg-options fewshot_dataset=data/mine/dataset_config.py

A split that has no classes is written as ``None`` (validation off). The
file is plain data, an MMEngine config; ``data_root`` and ``input_dir`` may
be edited by hand (the other paths follow them).
"""
import os.path as osp
from typing import Dict, Optional, Sequence

__all__ = ['DATASET_CONFIG', 'split_summary', 'summaries_from_files',
           'write_dataset_config', 'usage_lines']

DATASET_CONFIG = 'dataset_config.py'
SPLITS = ('train', 'val', 'test')


def split_summary(labels: Sequence[int], num_classes: int) -> Optional[dict]:
    """Class and video counts of one split (None when it has no videos).

    Args:
        labels (Sequence[int]): The label of each listed video.
        num_classes (int): Classes of the split (``{split}_classes.txt``).

    Returns:
        dict | None: ``num_classes``, ``num_videos`` and ``min_videos`` (the
        fewest videos of a class).
    """
    if num_classes == 0 or not labels:
        return None
    counts = [0] * num_classes
    for label in labels:
        counts[label] += 1
    return dict(num_classes=num_classes, num_videos=len(labels),
                min_videos=min(counts))


def summaries_from_files(ann_dir: str) -> Dict[str, Optional[dict]]:
    """:func:`split_summary` of each ``ann_dir/{split}.txt`` there is (the
    label is the last field of a line: video and rawframe lists alike)."""
    out = {}
    for split in SPLITS:
        ann = osp.join(ann_dir, f'{split}.txt')
        names = osp.join(ann_dir, f'{split}_classes.txt')
        if not (osp.isfile(ann) and osp.isfile(names)):
            out[split] = None
            continue
        with open(names) as f:
            num_classes = sum(1 for line in f if line.strip())
        with open(ann) as f:
            labels = [int(line.split()[-1]) for line in f if line.strip()]
        out[split] = split_summary(labels, num_classes)
    return out


def _allows(split: str, summary: dict) -> str:
    ways = min(5, summary['num_classes'])
    shots = [k for k in (1, 5) if summary['min_videos'] >= k + 1]
    if not shots:
        return 'too few videos for any episode'
    return f'{ways}-way {" and ".join(f"{k}-shot" for k in shots)}'


def write_dataset_config(out: str,
                         summaries: Dict[str, Optional[dict]],
                         input_dir: str = 'videos',
                         dataset_type: str = 'VideoDataset',
                         filename_tmpl: str = 'img_{:05}.jpg',
                         start_index: int = 1,
                         command: str = '') -> str:
    """Write ``out/dataset_config.py``; return its path.

    Args:
        out (str): The output folder of the tool (holds ``annotations/``).
        summaries (dict): ``split -> split_summary(...)`` (None: empty).
            Splits not in it are written as None.
        input_dir (str): ``'videos'``, ``'frames'`` (extracted frames, read
            by ``VideoOrFramesInit``) or ``'rawframes'``.
        dataset_type (str): ``'VideoDataset'`` or ``'RawframeDataset'``.
        filename_tmpl (str): Frame names of a ``RawframeDataset``.
        start_index (int): First frame index of a ``RawframeDataset``.
        command (str): The command that wrote it (a comment).
    """
    path = osp.join(out, DATASET_CONFIG)
    lines = [
        '# A few-shot dataset, written by tools/data/build_fewshot_ann.py'
        + (f':\n#   {command}' if command else '.'),
        '# Use it with any method config (docs/data_preparation.md):',
        *[f'#   {line}' for line in usage_lines(path)],
        f'data_root = {out!r}',
        f"input_dir = {input_dir!r}  # 'videos' or, after --extract-frames,"
        " 'frames'",
        f'dataset_type = {dataset_type!r}',
    ]
    if dataset_type == 'RawframeDataset':
        lines += [f'filename_tmpl = {filename_tmpl!r}',
                  f'start_index = {start_index!r}']
    lines += ["ann_root = f'{data_root}/annotations'", 'splits = dict(']
    for split in SPLITS:
        summary = summaries.get(split)
        if summary is None:
            lines += [f'    # no {split} classes'
                      + (': validation is off' if split == 'val' else ''),
                      f'    {split}=None,']
            continue
        lines += [
            f"    # {summary['num_classes']} classes, "
            f"{summary['num_videos']} videos, at least "
            f"{summary['min_videos']} per class: {_allows(split, summary)}",
            f'    {split}=dict(',
            f"        ann_file=f'{{ann_root}}/{split}.txt',",
            f"        class_names=f'{{ann_root}}/{split}_classes.txt',",
            f"        num_classes={summary['num_classes']},",
            f"        min_videos={summary['min_videos']}),",
        ]
    lines.append(')')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def usage_lines(path: str) -> list:
    """How to use a dataset config with any method config (CONFIG)."""
    option = f'--cfg-options fewshot_dataset={path}'
    return [
        f'test:      python tools/test.py CONFIG CKPT {option}',
        f'train:     python tools/train.py CONFIG {option}',
        f'fine-tune: python tools/train.py CONFIG {option} --load-from CKPT',
        f"or a config: _base_ = ['CONFIG']; fewshot_dataset = '{path}'",
    ]
