# Copyright (c) m2df_mmaction contributors.
"""Transcode videos (SSv2 ``.webm`` → ``.mp4``), resumable and parallel.

Example::

    python tools/data/transcode_videos.py --src /data/ssv2/videos \\
        --dst /data/ssv2/mp4 --workers 8 --from-splits ssv2_full

Uses the ffmpeg binary shipped by ``imageio-ffmpeg``
(``imageio_ffmpeg.get_ffmpeg_exe()``), H.264 (``libx264``) where that build
has it, MPEG-4 part 2 (``mpeg4``) otherwise. Each output is written to
``<name>.mp4.part`` and renamed when ffmpeg succeeds, so an interrupted
file is never taken as finished: a rerun skips the finished outputs and
redoes the rest. ``--from-splits`` transcodes only the videos the few-shot
split lists name (71,796 of SSv2's 220,847 for ``ssv2_full``).
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence, Tuple

from m2df_mmaction.datasets.fewshot_splits import (FEWSHOT_DATASETS, SPLITS,
                                                   find_split_files,
                                                   read_clipfsar_list,
                                                   read_trx_list)
from m2df_mmaction.utils.errors import run_main


def ffmpeg_exe() -> str:
    """The ffmpeg binary of ``imageio-ffmpeg``."""
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def pick_codec(exe: str) -> str:
    """``libx264`` if this ffmpeg can encode with it, else ``mpeg4``."""
    out = subprocess.run([exe, '-hide_banner', '-encoders'],
                         capture_output=True, text=True).stdout
    names = {line.split()[1] for line in out.splitlines()
             if len(line.split()) > 1 and line.startswith(' V')}
    return 'libx264' if 'libx264' in names else 'mpeg4'


def codec_args(codec: str, quality: Optional[int]) -> List[str]:
    if codec == 'libx264':
        return ['-c:v', 'libx264', '-preset', 'veryfast', '-crf',
                str(23 if quality is None else quality), '-pix_fmt',
                'yuv420p']
    return ['-c:v', 'mpeg4', '-q:v', str(3 if quality is None else quality)]


def listed_videos(splits_root: str, dataset: str) -> List[str]:
    """Video ids (file stems) named by a dataset's split lists."""
    ids = set()
    for fmt in FEWSHOT_DATASETS[dataset]:
        files = find_split_files(splits_root, dataset, fmt)
        for split in SPLITS:
            entries = read_clipfsar_list(files[split], split) \
                if fmt == 'clipfsar' else read_trx_list(files[split])
            ids.update(e.video_id for e in entries)
    return sorted(ids)


def find_sources(src: str, src_ext: str,
                 only: Optional[Sequence[str]] = None) -> List[str]:
    """Paths under ``src`` (relative) of the videos to transcode."""
    if only is not None:
        return [f"{stem}{src_ext}" for stem in only]
    found = []
    for dirpath, _, files in os.walk(src):
        for f in files:
            if f.endswith(src_ext):
                found.append(osp.relpath(osp.join(dirpath, f), src))
    return sorted(found)


def transcode_one(exe: str, src: str, dst: str, codec: List[str],
                  extra: Sequence[str] = ()) -> Tuple[str, str]:
    """Transcode one file; ``(status, message)`` with status ``done``,
    ``skipped``, ``missing`` or ``failed``."""
    if osp.isfile(dst) and osp.getsize(dst) > 0:
        return 'skipped', ''
    if not osp.isfile(src):
        return 'missing', src
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    part = dst + '.part'
    cmd = [exe, '-y', '-loglevel', 'error', '-nostdin', '-i', src, *extra,
           *codec, '-an', '-f', 'mp4', part]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not osp.isfile(part) or \
            osp.getsize(part) == 0:
        if osp.exists(part):
            os.remove(part)
        return 'failed', f'{src}: {result.stderr.strip()[-300:]}'
    os.replace(part, dst)
    return 'done', ''


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Transcode videos to mp4.')
    p.add_argument('--src', required=True, help='folder of the videos')
    p.add_argument('--dst', required=True, help='output folder')
    p.add_argument('--src-ext', default='.webm')
    p.add_argument('--dst-ext', default='.mp4')
    p.add_argument('--codec', default='auto',
                   choices=('auto', 'libx264', 'mpeg4'))
    p.add_argument('--quality', type=int,
                   help='libx264 crf (default 23) or mpeg4 q:v (default 3)')
    p.add_argument('--short-side', type=int,
                   help='also resize to this short side (e.g. 256)')
    p.add_argument('--from-splits', choices=sorted(FEWSHOT_DATASETS),
                   help='only the videos this dataset\'s split lists name')
    p.add_argument('--splits-root', default='data/splits')
    p.add_argument('--workers', type=int, default=4)
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    exe = ffmpeg_exe()
    codec = pick_codec(exe) if args.codec == 'auto' else args.codec
    extra = []
    if args.short_side:
        s = args.short_side
        extra = ['-vf', f"scale='if(gt(iw,ih),-2,{s})':'if(gt(iw,ih),{s},-2)'"]
    only = listed_videos(args.splits_root, args.from_splits) \
        if args.from_splits else None
    sources = find_sources(args.src, args.src_ext, only)
    print(f'{len(sources)} videos, codec {codec}, ffmpeg {exe}')
    jobs = [(osp.join(args.src, rel),
             osp.join(args.dst, osp.splitext(rel)[0] + args.dst_ext))
            for rel in sources]
    cargs = codec_args(codec, args.quality)

    from tqdm import tqdm
    status = {'done': 0, 'skipped': 0, 'missing': [], 'failed': []}
    with ThreadPoolExecutor(max(args.workers, 1)) as pool, tqdm(
            total=len(jobs), desc='transcode', unit='video',
            disable=args.no_progress, file=sys.stdout) as bar:
        for kind, message in pool.map(
                lambda job: transcode_one(exe, *job, cargs, extra), jobs):
            if isinstance(status[kind], list):
                status[kind].append(message)
            else:
                status[kind] += 1
            bar.update()
    print(f'done {status["done"]}, already there {status["skipped"]}, '
          f'missing {len(status["missing"])}, failed '
          f'{len(status["failed"])}')
    for kind in ('missing', 'failed'):
        for message in status[kind][:20]:
            print(f'  {kind}: {message}')
        if len(status[kind]) > 20:
            print(f'  ... and {len(status[kind]) - 20} more {kind}')
    return 1 if status['missing'] or status['failed'] else 0


if __name__ == '__main__':
    sys.exit(run_main(main))
