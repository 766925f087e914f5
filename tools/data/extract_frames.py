# Copyright (c) m2df_mmaction contributors.
"""Extract the frames of videos once: the fast training input path.

Example::

    python tools/data/extract_frames.py --video-root data/hmdb51/videos \\
        --out data/hmdb51/frames --workers 8 \\
        --ann-files data/hmdb51/annotations/{train,val,test}.txt

(``build_fewshot_ann.py --extract-frames`` runs this on the videos it
lists.) The frames of ``<video-root>/<path>`` go to ``<out>/<path>/``:
``img_00001.jpg ...`` and ``frames.json`` (frame count, frame rate,
settings), the layout ``VideoOrFramesInit``/``VideoOrFramesDecode`` read
and ``RawframeDataset`` reads too. The annotation files stay the same; the
switch is the data root (``videos`` -> ``frames``).

What the model sees: frame ``j`` of the folder is frame ``j * frame_step``
as decord decodes it (the frame ``DecordDecode`` returns for that index),
resized exactly as ``Resize(scale=(-1, short_side))`` resizes it (mmcv,
bilinear), then stored as a JPEG: the only difference from decoding on the
fly is the JPEG loss (see docs/data_preparation.md for its PSNR).

Parallel (``--workers`` processes), resumable and verified: a clip is
written to ``<path>.part/`` and renamed to ``<path>/`` only after its frame
count matches the source and its frames decode, so an interrupted run
leaves nothing that counts as done; a rerun skips the finished clips (same
source size and settings) and redoes the rest. A finished folder is
checked again on a rerun (frame count, and the frames ``--verify-all`` or
the default sampled check decodes): one with deleted or damaged JPEGs is
extracted again and reported as repaired.
"""
import argparse
import json
import multiprocessing
import os
import os.path as osp
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from m2df_mmaction.datasets.transforms.loading import (FRAME_TMPL, FRAMES_META,
                                                       iter_frames_in_order,
                                                       read_frames_meta)
from m2df_mmaction.datasets.video_check import check_frame_dir, quiet_decord
from m2df_mmaction.utils.errors import run_main

VIDEO_EXTS = ('.mp4', '.avi', '.webm', '.mkv', '.mov', '.m4v', '.mpg',
              '.mpeg')


@dataclass(frozen=True)
class ExtractSettings:
    """How frames are extracted (a finished clip must match them).

    Args:
        short_side (int): Short side of the stored frames, as
            ``Resize(scale=(-1, short_side))``; 0 keeps the size.
        jpeg_quality (int): JPEG quality, 1-100.
        frame_step (int): Keep every ``frame_step``-th frame (1: all).
        verify (str): Frames decoded back from disk: ``'sampled'`` (the
            test pipeline's 8, the first, middle and last) or ``'all'``.
    """

    short_side: int = 256
    jpeg_quality: int = 90
    frame_step: int = 1
    verify: str = 'sampled'


class ExtractResult(NamedTuple):
    """The outcome for one clip: ``status`` is ``done``, ``repaired`` (a
    finished output was there but frames were missing or damaged:
    ``message`` says which; extracted again), ``skipped`` (a finished
    output was there) or ``failed`` (``message`` says why);
    ``seconds`` is the CPU time it took (one core)."""

    status: str
    video: str
    message: str = ''
    num_bytes: int = 0
    seconds: float = 0.0


def resized_shape(width: int, height: int, short_side: int) -> Tuple[int,
                                                                     int]:
    """``(w, h)`` after ``Resize(scale=(-1, short_side))`` (same rounding).
    """
    if not short_side:
        return width, height
    import mmcv
    return mmcv.rescale_size((width, height), (np.inf, short_side))


def is_done(dst: str, src: str, settings: ExtractSettings) -> bool:
    """Whether ``dst`` is a finished extraction of ``src`` with these
    settings (``frames.json`` is written last, after verification)."""
    if not osp.isdir(dst):
        return False
    try:
        meta = read_frames_meta(dst)
    except (OSError, ValueError):
        return False
    if meta is None:
        return False
    same = all(meta.get(k) == v for k, v in asdict(settings).items()
               if k != 'verify')
    return same and osp.isfile(src) and \
        meta.get('source_bytes') == osp.getsize(src)


def extract_one(src: str, dst: str,
                settings: ExtractSettings) -> ExtractResult:
    """Extract, verify and publish the frames of one video.

    Args:
        src (str): The video file.
        dst (str): Its frame folder (written as ``dst + '.part'`` first).
        settings (ExtractSettings): How.

    Returns:
        ExtractResult: What happened; never raises for a bad video or an
        unwritable output (``failed``, naming the file).
    """
    repaired = ''
    if is_done(dst, src, settings):
        meta = read_frames_meta(dst)
        problem = check_frame_dir(dst, 1, FRAME_TMPL, 1,
                                  num_frames=meta['total_frames'],
                                  decode=settings.verify)
        if problem is None:
            return ExtractResult('skipped', src,
                                 num_bytes=meta.get('bytes', 0))
        repaired = f'{problem.kind}: {problem.detail}'
    if not osp.isfile(src):
        return ExtractResult('failed', src, 'missing: no such file')
    if osp.getsize(src) == 0:
        return ExtractResult('failed', src, 'empty: 0 bytes')
    if osp.exists(dst) and not osp.isfile(osp.join(dst, FRAMES_META)):
        return ExtractResult(
            'failed', src, f'{dst} exists and is not a frame folder written '
            'by this tool (no frames.json); move it away')
    start = time.process_time()
    part = dst + '.part'
    try:
        if osp.exists(part):
            shutil.rmtree(part)
        os.makedirs(part)
        meta = _write_frames(src, part, settings)
        problem = check_frame_dir(part, 1, FRAME_TMPL, 1,
                                  num_frames=meta['total_frames'],
                                  decode=settings.verify)
        if problem is not None:
            raise RuntimeError(f'verification failed: {problem.kind} '
                               f'{problem.detail}')
        with open(osp.join(part, FRAMES_META), 'w') as f:
            json.dump(meta, f, indent=1)
        if osp.exists(dst):  # ours, for other settings or another source
            shutil.rmtree(dst)
        os.rename(part, dst)
    except Exception as error:
        shutil.rmtree(part, ignore_errors=True)
        return ExtractResult('failed', src,
                             f'{type(error).__name__}: {error}'[:300])
    return ExtractResult('repaired' if repaired else 'done', src, repaired,
                         num_bytes=meta['bytes'],
                         seconds=time.process_time() - start)


def _write_frames(src: str, out: str, settings: ExtractSettings) -> dict:
    """Decode ``src`` in order, resize, encode and write; the metadata."""
    import cv2
    import decord
    import mmcv
    reader = decord.VideoReader(src, num_threads=1)
    num_source = len(reader)
    if num_source == 0:
        raise RuntimeError('the video has no frames')
    fps = float(reader.get_avg_fps())
    total_bytes, shape, number = 0, None, 0
    # In decoding order, never seeking (iter_frames_in_order): the frames
    # VideoOrFramesDecode returns for these indices, even on a damaged
    # stream, where seeking gives other pixels.
    frames = iter_frames_in_order(reader,
                                  range(0, num_source, settings.frame_step))
    while True:
        try:
            index, frame = next(frames)
        except StopIteration:
            break
        except Exception as error:  # decord's DECORDError
            raise RuntimeError(
                f'only {number * settings.frame_step} of the {num_source} '
                f'frames the video lists decode ({error})'[:300]) from None
        number += 1
        height, width = frame.shape[:2]
        new_w, new_h = resized_shape(width, height, settings.short_side)
        if (new_w, new_h) != (width, height):
            frame = mmcv.imresize(frame, (new_w, new_h),
                                  interpolation='bilinear')
        ok, data = cv2.imencode(
            '.jpg', np.ascontiguousarray(frame[..., ::-1]),
            [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed at frame {index}')
        path = osp.join(out, FRAME_TMPL.format(number))
        data.tofile(path)
        if osp.getsize(path) != data.size:
            raise OSError(f'{path}: {osp.getsize(path)} bytes written of '
                          f'{data.size}')
        total_bytes += data.size
        shape = frame.shape[:2]
    return dict(
        total_frames=number,
        avg_fps=fps / settings.frame_step,
        filename_tmpl=FRAME_TMPL,
        start_index=1,
        height=int(shape[0]),
        width=int(shape[1]),
        bytes=int(total_bytes),
        source=osp.basename(src),
        source_frames=num_source,
        source_fps=fps,
        source_bytes=osp.getsize(src),
        short_side=settings.short_side,
        jpeg_quality=settings.jpeg_quality,
        frame_step=settings.frame_step)


def _init_worker() -> None:
    import cv2
    cv2.setNumThreads(1)
    quiet_decord()


def _run_job(job: Tuple[str, str, ExtractSettings]) -> ExtractResult:
    return extract_one(*job)


def check_writable(out: str) -> None:
    """Make ``out``; raise ``SystemExit`` naming it if it is not
    writable."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = osp.join(out, f'.write_test_{os.getpid()}')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise SystemExit(f'error: cannot write frames to {out}: {error}')


def extract_videos(videos: Sequence[str],
                   video_root: str,
                   out: str,
                   settings: ExtractSettings = ExtractSettings(),
                   workers: int = 4,
                   progress: bool = True) -> List[ExtractResult]:
    """Extract the frames of ``video_root/<v>`` to ``out/<v>/`` for each
    listed path, in parallel, with a progress bar and a summary.

    Args:
        videos (Sequence[str]): Video paths relative to ``video_root``.
        video_root (str): Folder of the videos.
        out (str): Frames root.
        settings (ExtractSettings): How to extract.
        workers (int): Processes. Defaults to 4.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        list[ExtractResult]: One per video, in order.
    """
    check_writable(out)
    jobs = [(osp.join(video_root, v), osp.join(out, v), settings)
            for v in videos]
    from tqdm import tqdm
    bar = tqdm(total=len(jobs), desc='extract frames', unit='video',
               disable=not progress, file=sys.stdout)
    start = time.perf_counter()
    results: List[ExtractResult] = []
    if workers <= 1:
        _init_worker()
        for job in jobs:
            results.append(_run_job(job))
            bar.update()
    else:
        ctx = multiprocessing.get_context('fork')
        with ctx.Pool(workers, initializer=_init_worker) as pool:
            for result in pool.imap(_run_job, jobs, chunksize=1):
                results.append(result)
                bar.update()
    bar.close()
    print(summarize(results, time.perf_counter() - start, workers, out))
    return results


def summarize(results: Sequence[ExtractResult], seconds: float,
              workers: int, out: str) -> str:
    """Counts, disk size per 1,000 clips and build time per 1,000 clips."""
    repaired = [r for r in results if r.status == 'repaired']
    done = [r for r in results if r.status == 'done'] + repaired
    skipped = [r for r in results if r.status == 'skipped']
    failed = [r for r in results if r.status == 'failed']
    kept = done + skipped
    total = sum(r.num_bytes for r in kept)
    lines = [f'frames of {len(results)} videos in {out}: extracted '
             f'{len(done)}, already there {len(skipped)}, failed '
             f'{len(failed)}']
    if repaired:
        lines[0] += (f' (repaired {len(repaired)}: finished folders with '
                     'missing or damaged frames, extracted again)')
    if kept:
        lines.append(f'disk: {total / 1e9:.2f} GB for {len(kept)} clips = '
                     f'{total / len(kept) * 1000 / 1e9:.2f} GB per 1,000 '
                     'clips')
    if done:
        lines.append(f'time: {seconds:.1f} s with {workers} workers = '
                     f'{seconds / len(done) * 1000 / 60:.1f} min per 1,000 '
                     f'clips ({sum(r.seconds for r in done) / len(done):.3f}'
                     ' CPU s per clip, one core)')
    for result in repaired[:20]:
        lines.append(f'  repaired: {result.video}: {result.message}')
    for result in failed[:20]:
        lines.append(f'  failed: {result.video}: {result.message}')
    if len(failed) > 20:
        lines.append(f'  ... and {len(failed) - 20} more failed')
    return '\n'.join(lines)


def read_ann_videos(ann_files: Iterable[str]) -> List[str]:
    """Distinct video paths (first field) of VideoDataset annotation
    files, in order."""
    seen, videos = set(), []
    for ann in ann_files:
        with open(ann) as f:
            for line in f:
                if line.strip():
                    path = line.split()[0]
                    if path not in seen:
                        seen.add(path)
                        videos.append(path)
    return videos


def find_videos(root: str, exts: Sequence[str] = VIDEO_EXTS) -> List[str]:
    """Video files under ``root`` (relative paths, sorted)."""
    found = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if osp.splitext(f)[1].lower() in exts:
                found.append(osp.relpath(osp.join(dirpath, f), root))
    return sorted(found)


def add_settings_args(p: argparse.ArgumentParser) -> None:
    """The extraction options (shared with build_fewshot_ann.py)."""
    p.add_argument('--short-side', type=int, default=256,
                   help='short side of the stored frames (0: keep)')
    p.add_argument('--jpeg-quality', type=int, default=90)
    p.add_argument('--frame-step', type=int, default=1,
                   help='keep every N-th frame (1: all; see '
                   'docs/data_preparation.md for what it changes)')
    p.add_argument('--verify-all', action='store_true',
                   help='decode every written frame back (default: the '
                   'sampled ones, the first, middle and last)')


def settings_from_args(args: argparse.Namespace) -> ExtractSettings:
    if not 1 <= args.jpeg_quality <= 100:
        raise SystemExit('error: --jpeg-quality must be in 1..100')
    if args.frame_step < 1 or args.short_side < 0:
        raise SystemExit('error: --frame-step must be >= 1 and '
                         '--short-side >= 0')
    return ExtractSettings(args.short_side, args.jpeg_quality,
                           args.frame_step,
                           'all' if args.verify_all else 'sampled')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Extract video frames (JPEG) for fast training input.')
    p.add_argument('--video-root', required=True)
    p.add_argument('--out', required=True, help='frames root')
    p.add_argument('--ann-files', nargs='+',
                   help='VideoDataset annotation files listing the videos '
                   '(default: every video under --video-root)')
    add_settings_args(p)
    p.add_argument('--workers', type=int, default=4)
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    settings = settings_from_args(args)
    if not osp.isdir(args.video_root):
        print(f'error: --video-root {args.video_root} is not a folder.',
              file=sys.stderr)
        return 1
    videos = read_ann_videos(args.ann_files) if args.ann_files else \
        find_videos(args.video_root)
    results = extract_videos(videos, args.video_root, args.out, settings,
                             args.workers, not args.no_progress)
    return 1 if any(r.status == 'failed' for r in results) else 0


if __name__ == '__main__':
    sys.exit(run_main(main))
