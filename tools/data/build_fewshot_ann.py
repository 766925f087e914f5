# Copyright (c) m2df_mmaction contributors.
"""Write MMAction2 annotation files for a few-shot benchmark, verified.

One entry for the five standard benchmarks and for your own folder of
videos (see docs/data_preparation.md)::

    python tools/data/build_fewshot_ann.py --dataset hmdb51 \\
        --video-root /data/hmdb51 --workers 8
    python tools/data/build_fewshot_ann.py --dataset custom \\
        --video-root /data/my_videos --split-ratio 64,12,24 --seed 0

Writes ``OUT/annotations/{split}.txt`` (``<path> <label>``, paths relative
to ``OUT/videos``; with ``--rawframes``: ``<frame dir> <frames> <label>``),
``{split}_classes.txt`` (line ``i`` names label ``i``), ``verify_report.csv``
and ``OUT/dataset_config.py``, which runs any method config on this data
(``--cfg-options fewshot_dataset=OUT/dataset_config.py``; the tool prints
the commands). ``OUT/videos`` (``OUT/rawframes``) links to ``--video-root``.

Every listed video is checked (exists, not empty, opens with decord, has at
least ``--min-frames`` frames, the sampled frames decode). A problem stops
the tool with a summary, unless ``--allow-missing``: then bad videos are
left out, each printed, and a class left with fewer videos than the
standard episodes need is refused (``--min-videos-per-class`` lowers that).
``--extract-frames`` also writes the JPEG frames of every listed video to
``OUT/frames`` (the fast input path), and the dataset config reads them.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from m2df_mmaction.datasets.fewshot_splits import (FEWSHOT_DATASETS, SPLITS,
                                                   class_name_key,
                                                   load_fewshot_split,
                                                   load_ssv2_json)
from m2df_mmaction.datasets.dataset_config import (summaries_from_files,
                                                   usage_lines,
                                                   write_dataset_config)
from m2df_mmaction.datasets.fewshot_ann import (Item, SplitData,
                                                custom_splits,
                                                drop_and_check, limit_splits,
                                                summarize, write_report)
from m2df_mmaction.datasets.video_check import (check_frame_dir, check_video,
                                                count_frames, quiet_decord)
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
    print(f'frames are in {frames}.')
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
        data, assigned = custom_splits(
            args.video_root, args.splits,
            (args.ext, ) if args.ext else VIDEO_EXTS, args.rawframes,
            args.class_splits, args.split_ratio, args.seed)
        with open(osp.join(ann_dir, 'class_splits.json'), 'w') as f:
            json.dump(assigned, f, indent=1)
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
    if args.extract_frames and extract_frames(data, args):
        return 1
    return write_config(args, sys.argv[1:] if argv is None else argv)


def write_config(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Write ``OUT/dataset_config.py`` and say how to use it."""
    if args.rawframes:
        kind = dict(input_dir='rawframes', dataset_type='RawframeDataset',
                    filename_tmpl=args.filename_tmpl,
                    start_index=args.start_index)
    else:
        kind = dict(input_dir='frames' if args.extract_frames else 'videos')
    path = write_dataset_config(
        args.out, summaries_from_files(osp.join(args.out, 'annotations')),
        command=' '.join(['build_fewshot_ann.py', *argv]), **kind)
    print(f'dataset config: {path} (reads the {kind["input_dir"]}). Use it '
          'with any method config CONFIG (docs/data_preparation.md):\n  '
          + '\n  '.join(usage_lines(path)))
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
