# Copyright (c) m2df_mmaction contributors.
"""Write MMAction2 annotation files for a few-shot benchmark, verified.

One entry for the five standard benchmarks and for your own folder of
videos (see docs/data_preparation.md)::

    python tools/data/build_fewshot_ann.py --dataset hmdb51 \\
        --video-root /data/hmdb51 --workers 8
    python tools/data/build_fewshot_ann.py --dataset custom \\
        --video-root /data/my_videos --split-ratio 64,12,24 --seed 0

Writes ``OUT/annotations/{split}.txt`` (``<path> <label>``, paths relative
to ``OUT/videos``; with ``--rawframes``: ``<frame dir> <frames> <label>``
relative to ``OUT/rawframes``), ``OUT/annotations/{split}_classes.txt``
(line ``i`` names label ``i``) and ``OUT/annotations/verify_report.csv``.
``OUT/videos`` (``OUT/rawframes``) is made a symlink to ``--video-root``
unless it is that folder already, so the annotation files stay relative and
the configs in ``configs/_base_/datasets/`` read them as they are.

Every listed video is checked (exists, not empty, opens with decord, has at
least ``--min-frames`` frames, and the frames the pipeline samples decode).
Any problem stops the tool with a summary, unless ``--allow-missing`` is
given; then the bad videos are left out, each one printed per class, and
the tool still refuses if a class keeps fewer videos than the standard
episodes need (``--min-videos-per-class`` lowers that).

``--extract-frames`` then writes the fast training input path: the JPEG
frames of every listed video under ``OUT/frames`` (same relative paths,
``tools/data/extract_frames.py``); a dataset config reads them instead of
the videos with ``input_dir = 'frames'``.
"""
import argparse
import csv
import importlib.util
import json
import os
import os.path as osp
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from m2df_mmaction.datasets.fewshot_splits import (FEWSHOT_DATASETS, SPLITS,
                                                   class_name_key,
                                                   load_fewshot_split,
                                                   load_ssv2_json)
from m2df_mmaction.datasets.video_check import (PROBLEMS, check_frame_dir,
                                                check_video, count_frames,
                                                quiet_decord)
from m2df_mmaction.utils.errors import run_main

DATASETS = tuple(FEWSHOT_DATASETS) + ('custom', )
DEFAULT_EXT = {
    'ssv2_full': '.webm',
    'ssv2_small': '.webm',
    'kinetics100': '.mp4',
    'ucf101': '.avi',
    'hmdb51': '.avi',
}
VIDEO_EXTS = ('.mp4', '.avi', '.webm', '.mkv', '.mov', '.m4v', '.mpg',
              '.mpeg')
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


# ---------------------------------------------------------------------------
# listing the videos of each split
# ---------------------------------------------------------------------------
def _class_folder(root: str, folder: str) -> str:
    """The class folder as it exists: ``air_drumming`` (preferred, no white
    space) or ``'air drumming'``."""
    underscored = folder.replace(' ', '_')
    if underscored != folder and osp.isdir(osp.join(root, underscored)):
        return underscored
    if osp.isdir(osp.join(root, folder)):
        return folder
    return underscored


def _index_frame_dirs(root: str) -> Dict[str, List[str]]:
    """``video id -> [frame folder under root]`` for ``root/<class>/<id>/``
    and ``root/<id>/`` layouts (two levels are listed once)."""
    index: Dict[str, List[str]] = defaultdict(list)
    for first in sorted(os.scandir(root), key=lambda e: e.name):
        if not first.is_dir():
            continue
        has_subdirs = False
        for second in os.scandir(first.path):
            if second.is_dir():
                has_subdirs = True
                index[second.name].append(f'{first.name}/{second.name}')
        if not has_subdirs:
            index[first.name].append(first.name)
    return index


def benchmark_splits(args: argparse.Namespace) -> Dict[str, SplitData]:
    """Read the split lists of a standard benchmark and map them to paths."""
    templates = None
    if args.labels:
        label_names, templates = load_ssv2_json(args.labels)
        if label_names:
            print(f'SSv2 label file: {len(label_names)} classes.')
    ext = args.ext if args.ext is not None else DEFAULT_EXT[args.dataset]
    is_ssv2 = args.dataset.startswith('ssv2')
    frame_index = _index_frame_dirs(args.video_root) \
        if args.rawframes else None
    out = {}
    folders: Dict[str, str] = {}
    for split in args.splits:
        fs = load_fewshot_split(args.splits_root, args.dataset, args.format,
                                split, ssv2_templates=templates)
        for note in fs.notes:
            print(f'note: {note}')
        if is_ssv2 and args.labels and label_names:
            unknown = [n for n in fs.class_names
                       if class_name_key(n) not in
                       {class_name_key(k) for k in label_names}]
            if unknown:
                print(f'WARNING: {split} classes not in the SSv2 label '
                      f'file: {unknown[:5]}')
        items = []
        for entry, label in zip(fs.entries, fs.labels):
            name = fs.class_names[label]
            if frame_index is not None:
                path = _find_frame_dir(frame_index, entry.video_id,
                                       entry.folder)
            elif is_ssv2:
                path = entry.video_id + ext
            elif args.format == 'clipfsar':
                path = entry.video
                if args.ext is not None:
                    path = osp.splitext(path)[0] + ext
            else:
                if entry.folder not in folders:
                    folders[entry.folder] = _class_folder(
                        args.video_root, entry.folder)
                path = f'{folders[entry.folder]}/{entry.video}{ext}'
            items.append(Item(label, name, path))
        out[split] = SplitData(fs.class_names, items)
    return out


def _find_frame_dir(index: Dict[str, List[str]], video_id: str,
                    folder: str) -> str:
    found = index.get(video_id, [])
    if len(found) > 1 and folder:
        key = class_name_key(folder)
        same = [p for p in found if class_name_key(p.split('/')[0]) == key]
        found = same or found
    if found:
        return found[0]
    # not there: report it where a TRX-style tree would hold it
    return f'{folder.replace(" ", "_")}/{video_id}' if folder else video_id


def custom_splits(args: argparse.Namespace) -> Dict[str, SplitData]:
    """Your own dataset: ``ROOT/<class>/<videos>`` and a class split."""
    root = args.video_root
    classes = sorted(d for d in os.listdir(root)
                     if osp.isdir(osp.join(root, d)))
    if not classes:
        raise SystemExit(f'error: {root} has no class folders.')
    if args.class_splits:
        from mmengine.fileio import load
        spec = load(args.class_splits)
        if not isinstance(spec, dict) or set(spec) - set(SPLITS):
            raise SystemExit(
                f'error: {args.class_splits} must map some of {SPLITS} to '
                'lists of class folder names.')
        assigned = {s: list(spec.get(s, [])) for s in SPLITS}
        unknown = [c for s in SPLITS for c in assigned[s]
                   if c not in classes]
        if unknown:
            raise SystemExit(f'error: {args.class_splits} names class '
                             f'folders that are not in {root}: {unknown}')
        counts = Counter(c for s in SPLITS for c in assigned[s])
        twice = [c for c, n in counts.items() if n > 1]
        if twice:
            raise SystemExit(f'error: {args.class_splits} puts classes in '
                             f'several splits: {twice}')
    else:
        ratio = [float(x) for x in args.split_ratio.split(',')]
        if len(ratio) != 3 or min(ratio) < 0 or sum(ratio) <= 0:
            raise SystemExit('error: --split-ratio takes three non-negative '
                             'numbers, e.g. 64,12,24.')
        order = np.random.default_rng(args.seed).permutation(len(classes))
        bounds = np.round(np.cumsum(ratio) / sum(ratio) *
                          len(classes)).astype(int)
        starts = [0, *bounds[:-1]]
        assigned = {
            s: sorted(classes[i] for i in order[a:b])
            for s, a, b in zip(SPLITS, starts, bounds)
        }
    exts = (args.ext, ) if args.ext else VIDEO_EXTS
    out = {}
    for split in args.splits:
        names = sorted(assigned[split])
        if len(names) < 5:
            print(f'WARNING: {split} has {len(names)} classes; 5-way '
                  'episodes need at least 5.')
        items = []
        for label, folder in enumerate(names):
            class_dir = osp.join(root, folder)
            if args.rawframes:
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
    os.makedirs(osp.join(args.out, 'annotations'), exist_ok=True)
    with open(osp.join(args.out, 'annotations', 'class_splits.json'),
              'w') as f:
        json.dump(assigned, f, indent=1)
    return out


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


# ---------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------
def verify(data: Dict[str, SplitData], root: str,
           args: argparse.Namespace) -> List[Tuple[str, Item, str, str]]:
    """Check every listed video in parallel; ``(split, item, problem,
    detail)`` for each bad one."""
    jobs = [(split, item) for split, sd in data.items() for item in sd.items]

    def run(job):
        if any(c.isspace() for c in job[1].path):
            return 'bad_path', ('white space in the path: MMAction2 splits '
                                'annotation lines on it; rename it')
        path = osp.join(root, job[1].path)
        if args.rawframes:
            return check_frame_dir(path, args.min_frames,
                                   args.filename_tmpl, args.start_index)
        return check_video(path, args.min_frames, args.num_frames)

    quiet_decord()
    from tqdm import tqdm
    bar = tqdm(total=len(jobs), desc='verify', unit='video',
               disable=args.no_progress, file=sys.stdout)
    results = []
    if args.workers <= 1:
        for job in jobs:
            results.append(run(job))
            bar.update()
    else:
        with ThreadPoolExecutor(args.workers) as pool:
            for res in pool.map(run, jobs, chunksize=1):
                results.append(res)
                bar.update()
    bar.close()
    return [(split, item, *res) for (split, item), res in zip(jobs, results)
            if res is not None]


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


# ---------------------------------------------------------------------------
# the fast input path: extracted frames
# ---------------------------------------------------------------------------
def _extract_frames_tool():
    """tools/data/extract_frames.py as a module (tools are not a
    package)."""
    name = 'extract_frames'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, osp.join(osp.dirname(osp.abspath(__file__)), f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # worker processes unpickle by name
        spec.loader.exec_module(module)
    return sys.modules[name]


def extract_frames(data: Dict[str, SplitData],
                   args: argparse.Namespace) -> int:
    """Extract the frames of every listed video into ``OUT/frames``."""
    tool = _extract_frames_tool()
    settings = tool.settings_from_args(args)
    if args.frames_root:
        os.makedirs(args.frames_root, exist_ok=True)
        frames = link_root(args.out, args.frames_root, 'frames')
    else:
        frames = osp.join(args.out, 'frames')
    videos = list(dict.fromkeys(item.path for sd in data.values()
                                for item in sd.items))
    results = tool.extract_videos(videos, args.video_root, frames, settings,
                                  args.workers, not args.no_progress)
    failed = [r for r in results if r.status == 'failed']
    if failed:
        print(f'error: {len(failed)} videos could not be extracted (listed '
              'above); the annotation files are written. Rerun to retry '
              'them (finished clips are skipped).', file=sys.stderr)
        return 1
    print(f'frames are in {frames}. Switch a dataset config to them with '
          "input_dir = 'frames' (configs/_base_/datasets/"
          f'{args.dataset}.py; docs/data_preparation.md).')
    return 0


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------
def link_root(out: str, video_root: str, name: str) -> str:
    """Make ``out/name`` point at ``video_root``; return it."""
    link = osp.join(out, name)
    if osp.realpath(link) == osp.realpath(video_root):
        return link
    if osp.islink(link):
        os.remove(link)
    elif osp.exists(link):
        raise SystemExit(
            f'error: {link} exists and is not {video_root}; move it away or '
            f'pass --video-root {link}.')
    os.symlink(osp.abspath(video_root), link)
    print(f'{link} -> {osp.abspath(video_root)}')
    return link


def write_annotations(data: Dict[str, SplitData], ann_dir: str,
                      root: str, args: argparse.Namespace) -> None:
    for split, sd in data.items():
        with open(osp.join(ann_dir, f'{split}_classes.txt'), 'w') as f:
            f.writelines(f'{n}\n' for n in sd.class_names)
        with open(osp.join(ann_dir, f'{split}.txt'), 'w') as f:
            for item in sd.items:
                if args.rawframes:
                    frames = count_frames(osp.join(root, item.path),
                                          args.filename_tmpl)
                    f.write(f'{item.path} {frames} {item.label}\n')
                else:
                    f.write(f'{item.path} {item.label}\n')
        counts = Counter(i.label for i in sd.items)
        print(f'{split}: {len(sd.class_names)} classes, {len(sd.items)} '
              f'videos (min {min(counts.values(), default=0)} per class) '
              f'-> {osp.join(ann_dir, split + ".txt")}')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Verified MMAction2 annotations for few-shot splits.')
    p.add_argument('--dataset', required=True, choices=DATASETS)
    p.add_argument('--video-root', required=True,
                   help='folder of the videos (or frame folders)')
    p.add_argument('--out', help='output folder (default data/<dataset>)')
    p.add_argument('--format', default='clipfsar', choices=('clipfsar',
                                                            'trx'),
                   help='split lists to read (both list the same videos '
                   'except on kinetics100; ssv2_full has clipfsar only)')
    p.add_argument('--splits-root', default='data/splits')
    p.add_argument('--splits', nargs='+', default=list(SPLITS),
                   choices=SPLITS, help='splits to write')
    p.add_argument('--labels', nargs='+',
                   help='official SSv2 json files (labels, train, '
                   'validation): bracketed names for SSv2 val classes and '
                   'a check of the train/test names')
    p.add_argument('--ext', help='video extension, e.g. .mp4 (defaults: '
                   'SSv2 .webm, Kinetics .mp4, UCF/HMDB .avi; CLIP-FSAR '
                   'paths keep theirs unless given)')
    p.add_argument('--workers', type=int, default=4)
    p.add_argument('--min-frames', type=int, default=8,
                   help='fewest frames a video may have')
    p.add_argument('--num-frames', type=int, default=8,
                   help='frames the pipeline samples (checked to decode)')
    p.add_argument('--allow-missing', action='store_true',
                   help='leave out bad videos (each is printed) instead of '
                   'failing')
    p.add_argument('--min-videos-per-class', type=int,
                   help='with --allow-missing: fewest videos a class may '
                   'keep (default: 10 train, 6 val/test, i.e. 5-shot)')
    p.add_argument('--rawframes', action='store_true',
                   help='frame folders <root>/<class>/<video>/ instead of '
                   'video files; writes RawframeDataset annotations')
    p.add_argument('--filename-tmpl', default='img_{:05}.jpg',
                   help='frame file names (with --rawframes)')
    p.add_argument('--start-index', type=int, default=1,
                   help='index of the first frame (with --rawframes)')
    p.add_argument('--class-splits', help='custom: json/yaml mapping '
                   'train/val/test to class folder names')
    p.add_argument('--split-ratio', default='64,12,24',
                   help='custom: seeded split of the class folders')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--limit-classes', type=int,
                   help='keep the first N classes per split (smoke tests)')
    p.add_argument('--limit-videos', type=int,
                   help='keep the first N videos per class (smoke tests)')
    p.add_argument('--extract-frames', action='store_true',
                   help='also extract the frames of every listed video into '
                   'OUT/frames (the fast training input path)')
    p.add_argument('--frames-root', help='with --extract-frames: put the '
                   'frames here, OUT/frames linking to it')
    _extract_frames_tool().add_settings_args(p)
    p.add_argument('--no-progress', action='store_true')
    args = p.parse_args(argv)
    if args.extract_frames and args.rawframes:
        p.error('--extract-frames reads videos; --rawframes are frames '
                'already')
    if args.out is None:
        args.out = osp.join('data', args.dataset)
    if args.ext is not None and not args.ext.startswith('.'):
        args.ext = '.' + args.ext
    if args.min_videos_per_class is not None and \
            args.min_videos_per_class < 1:
        p.error('--min-videos-per-class must be at least 1')
    if args.dataset != 'custom' and \
            args.format not in FEWSHOT_DATASETS[args.dataset]:
        p.error(f'{args.dataset} has no {args.format!r} lists')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.video_root):
        print(f'error: --video-root {args.video_root} is not a folder.',
              file=sys.stderr)
        return 1
    ann_dir = osp.join(args.out, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    if args.dataset == 'custom':
        data = custom_splits(args)
    else:
        data = benchmark_splits(args)
    limit_splits(data, args.limit_classes, args.limit_videos)

    total = sum(len(sd.items) for sd in data.values())
    start = time.time()
    problems = verify(data, args.video_root, args)
    took = time.time() - start
    print(f'verified {total} videos in {took:.1f} s '
          f'({1000 * took / max(total, 1):.1f} s per 1,000, '
          f'{args.workers} workers)')
    report = osp.join(ann_dir, 'verify_report.csv')
    write_report(report, problems)
    if problems:
        summary = summarize(problems, total, report)
        if not args.allow_missing:
            print(f'error: {summary}\nNo annotation file was written. '
                  'Fix the videos, or pass --allow-missing to leave them '
                  'out (each one is listed).', file=sys.stderr)
            return 1
        print(f'--allow-missing: {summary}')
        refusals = drop_and_check(data, problems, args.min_videos_per_class)
        if refusals:
            print('error: classes would keep too few videos for the '
                  'standard episodes:\n  ' + '\n  '.join(refusals) +
                  '\nLower --min-videos-per-class to accept this.',
                  file=sys.stderr)
            return 1
    else:
        print(f'all {total} videos are fine (report: {report}, empty).')
    link = link_root(args.out, args.video_root,
                     'rawframes' if args.rawframes else 'videos')
    write_annotations(data, ann_dir, link, args)
    if args.extract_frames:
        return extract_frames(data, args)
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
