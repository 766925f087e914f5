# Copyright (c) m2df_mmaction contributors.
"""Training input cost: videos decoded on the fly vs extracted frames.

Writes clips shaped like the benchmarks' videos from generated footage (no
downloads), extracts their frames with ``tools/data/extract_frames.py``,
then measures side by side, in one run:

- ms per clip on one core: ``DecordInit(num_threads=1)`` ->
  ``SampleFrames(8 segments)`` -> ``DecordDecode`` -> ``Resize(-1, 256)``
  -> ``RandomResizedCrop`` -> ``Resize(224)`` -> ``Flip`` -> ``FormatShape``
  on the video, and the same pipeline with ``VideoOrFramesInit``/
  ``VideoOrFramesDecode`` on its frames (median over clips of the median
  of ``--repeats``);
- core-seconds per 5-way 1-shot (30 clips: 5 supports, 25 queries) and
  5-shot (50 clips) training episode;
- episodes/s through the real torch ``DataLoader`` over ``EpisodicDataset``
  (5w1s, 5 queries per class, with ``PackActionInputs``) with each of
  ``--workers``, the CPU seconds a worker spends per episode, and the
  projection to 8 and 16 workers (8 or 16 divided by those CPU seconds:
  PROJECTED from the per-core cost, not measured);
- what the fast path costs and changes: disk and build time per 1,000
  clips, and the PSNR of the frames the model sees against decoding on the
  fly (same indices, after ``Resize(-1, 256)``);
- the other candidate: 256-px transcodes made for cheap seeks (H.264
  all-intra, H.264 with an 8-frame GOP, MJPEG), read by the unchanged
  decord pipeline: ms per clip and disk.

::

    python benchmarks/train_input_speed.py [--clips 10] [--workers 1 2]

The footage (:func:`render`) is made to be realistic for a codec, not flat
colours: a "dead leaves" scene (occluding discs and ellipses with power-law
radii, the classic model of natural-image statistics: sharp occlusion
edges at every scale) whose surfaces carry a 1/f luminance texture, seen by
a camera that pans, zooms and rolls, with three textured objects moving and
spinning across it, a slow lighting drift and fresh sensor grain (sigma 1)
in every frame. Encoded with ffmpeg's default rate control and GOP for each
codec (x264 CRF 23, keyint 250; VP9 CRF 33; MPEG-4 part 2 q 5, GOP 12), the
bitrates come out close to the real datasets' (printed).
"""
import argparse
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Tuple

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import m2df_mmaction  # noqa: F401,E402

# The three clip kinds.
KINDS = {
    'kinetics': dict(
        like='Kinetics', size=(340, 256), fps=30, seconds=10, ext='.mp4',
        format='H.264 mp4',
        codec=['-c:v', 'libx264', '-pix_fmt', 'yuv420p']),
    'ssv2': dict(
        like='SSv2', size=(427, 240), fps=12, seconds=4, ext='.webm',
        format='VP9 webm',
        codec=['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '33', '-row-mt',
               '1', '-pix_fmt', 'yuv420p']),
    'ucf': dict(
        like='UCF101', size=(320, 240), fps=25, seconds=6, ext='.avi',
        format='MPEG-4 avi',
        codec=['-c:v', 'mpeg4', '-vtag', 'XVID', '-q:v', '5']),
}
WAYS, QUERIES = 5, 5
# The other candidate: low-resolution short-GOP transcodes, read by the
# unchanged decord pipeline.
SCALE = "scale='if(gt(iw,ih),-2,256)':'if(gt(iw,ih),256,-2)'"
TRANSCODES = {
    'H.264 all-intra, 256 px': (
        '.mp4', ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18',
                 '-g', '1', '-pix_fmt', 'yuv420p']),
    'H.264 GOP 8, 256 px': (
        '.mp4', ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18',
                 '-g', '8', '-bf', '0', '-pix_fmt', 'yuv420p']),
    'MJPEG, 256 px': (
        '.avi', ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p']),
}


# ---------------------------------------------------------------------------
# footage
# ---------------------------------------------------------------------------
def one_over_f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Zero-mean, unit-variance noise with a 1/f amplitude spectrum."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1.0
    amp = 1.0 / f
    amp[0, 0] = 0.0
    spec = (rng.normal(size=amp.shape) + 1j * rng.normal(size=amp.shape))
    img = np.fft.irfft2(spec * amp, s=(h, w))
    return ((img - img.mean()) / img.std()).astype(np.float32)


def dead_leaves(rng: np.random.Generator, h: int, w: int,
                n: int = 1500) -> np.ndarray:
    """A float RGB scene of occluding shapes, power-law sizes, textured."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = rng.uniform(60, 180, 3)
    radii = np.clip(6 * (1 - rng.uniform(size=n))**-0.5, 4, 0.4 * h)
    for r in radii:
        colour = (rng.uniform(20, 235) *
                  (1 + rng.uniform(-0.25, 0.25, 3))).tolist()
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(r), int(r * rng.uniform(0.3, 1.0)))
        cv2.ellipse(img, centre, axes, rng.uniform(0, 180), 0, 360, colour,
                    -1, cv2.LINE_AA)
    img *= 1 + 0.12 * one_over_f(rng, h, w)[..., None]
    return cv2.GaussianBlur(img, (0, 0), 0.8)  # lens


def render(seed: int, w: int, h: int, num: int,
           fps: float) -> Iterator[np.ndarray]:
    """uint8 RGB frames ``[h, w, 3]`` of a moving camera over a scene with
    moving objects (see the module docstring)."""
    rng = np.random.default_rng(seed)
    big_w, big_h = int(w * 2.2), int(h * 2.2)
    scene = dead_leaves(rng, big_h, big_w)
    objects = []
    for _ in range(3):
        s = int(rng.uniform(0.25, 0.45) * h)
        mask = np.zeros((s, s), np.float32)
        cv2.ellipse(mask, (s // 2, s // 2),
                    (s // 2 - 1, int(s * rng.uniform(0.25, 0.45))),
                    rng.uniform(0, 180), 0, 360, 1, -1)
        objects.append((dead_leaves(rng, s, s, n=60),
                        cv2.GaussianBlur(mask, (5, 5), 0),
                        rng.uniform(0, 1, 2), rng.uniform(-0.4, 0.4, 2),
                        rng.uniform(0.5, 2.0)))
    phase = rng.uniform(0, 2 * np.pi, 4)
    for t in range(num):
        s = t / fps
        cx = big_w / 2 + 0.25 * big_w * np.sin(0.35 * s + phase[0])
        cy = big_h / 2 + 0.2 * big_h * np.sin(0.5 * s + phase[1])
        camera = cv2.getRotationMatrix2D(
            (cx, cy), 3 * np.sin(0.4 * s + phase[3]),
            1.0 + 0.15 * np.sin(0.6 * s + phase[2]))
        camera[:, 2] += [w / 2 - cx, h / 2 - cy]
        frame = cv2.warpAffine(scene, camera, (w, h),
                               flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        for texture, mask, start, speed, spin in objects:
            size = texture.shape[0]
            x, y = ((start + speed * s) % 1.0 *
                    [w - size, h - size]).astype(int)
            turn = cv2.getRotationMatrix2D((size / 2, size / 2),
                                           40 * spin * s, 1)
            tex = cv2.warpAffine(texture, turn, (size, size),
                                 borderMode=cv2.BORDER_REFLECT)
            alpha = cv2.warpAffine(mask, turn, (size, size))[..., None]
            region = frame[y:y + size, x:x + size]
            region[:] = region * (1 - alpha) + tex * alpha
        frame = frame * (1 + 0.05 * np.sin(0.8 * s)) + rng.normal(
            0, 1.0, frame.shape)
        yield np.clip(frame, 0, 255).astype(np.uint8)


def write_clip(path: str, kind: str, seed: int) -> None:
    """Encode one clip of ``kind`` with the ffmpeg of imageio-ffmpeg."""
    import imageio_ffmpeg
    k = KINDS[kind]
    (w, h), fps = k['size'], k['fps']
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-f',
           'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}', '-r', str(fps),
           '-i', '-', *k['codec'], '-threads', '1', path]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for frame in render(seed, w, h, fps * k['seconds'], fps):
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f'ffmpeg failed writing {path}')


def transcode(src: str, dst: str, codec: List[str]) -> None:
    import imageio_ffmpeg
    subprocess.run([
        imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-i',
        src, '-vf', SCALE, *codec, '-an', dst
    ], check=True)


# ---------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------
def pipeline(fast: bool, test_mode: bool = False) -> List[dict]:
    """The issue's training pipeline, on videos or (fast) frames."""
    init = 'VideoOrFramesInit' if fast else 'DecordInit'
    decode = 'VideoOrFramesDecode' if fast else 'DecordDecode'
    sample = dict(type='SampleFrames', clip_len=1, frame_interval=1,
                  num_clips=8, test_mode=test_mode)
    return [
        dict(type=init, num_threads=1), sample,
        dict(type=decode),
        dict(type='Resize', scale=(-1, 256)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(224, 224), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format='NCHW'),
    ]


def build(cfg: List[dict]):
    from mmaction.registry import TRANSFORMS
    from mmcv.transforms import Compose
    return Compose([TRANSFORMS.build(t) for t in cfg])


def ms_per_clip(paths: List[str], fast: bool,
                repeats: int) -> Tuple[float, float]:
    """Median over clips of the median cost of one pipeline run, in ms:
    ``(CPU time of this process, wall time)``. The CPU time is what a core
    spends, and hardly depends on what else runs on the machine."""
    run = build(pipeline(fast))
    cpu, wall = [], []
    for path in paths:
        times = []
        for _ in range(repeats):
            start = time.perf_counter(), time.process_time()
            run(dict(filename=path, start_index=0, modality='RGB'))
            times.append((time.process_time() - start[1],
                          time.perf_counter() - start[0]))
        cpu.append(np.median([t[0] for t in times]))
        wall.append(np.median([t[1] for t in times]))
    return 1000 * float(np.median(cpu)), 1000 * float(np.median(wall))


def psnr_vs_video(videos: List[str], frames: List[str]) -> float:
    """Mean PSNR (dB) of the fast path's frames against decoding the video,
    at the same indices, after ``Resize(-1, 256)`` (before any crop)."""
    def load(path, fast):
        cfg = pipeline(fast, test_mode=True)[:4]
        return np.stack(build(cfg)(dict(filename=path, start_index=0,
                                        modality='RGB'))['imgs'])

    values = []
    for video, frame in zip(videos, frames):
        a = load(video, False).astype(np.float64)
        b = load(frame, True).astype(np.float64)
        values.append(10 * np.log10(255**2 / np.mean((a - b)**2)))
    return float(np.mean(values))


def episodic_dataset(root: str, names: List[str], fast: bool):
    """5-way 1-shot training episodes, 5 queries per class, over the clips
    (reused across 5 classes), with ``PackActionInputs``."""
    from mmaction.registry import DATASETS
    ann = osp.join(osp.dirname(root), f'ann_{len(names)}.txt')
    per_class = max(len(names) // WAYS, 1 + QUERIES)
    with open(ann, 'w') as f:
        for i in range(WAYS * per_class):
            f.write(f'{names[i % len(names)]} {i % WAYS}\n')
    cfg = pipeline(fast) + [dict(type='PackActionInputs')]
    return DATASETS.build(
        dict(type='EpisodicDataset',
             dataset=dict(type='VideoDataset', ann_file=ann,
                          data_prefix=dict(video=root), pipeline=cfg),
             num_ways=WAYS, num_shots=1, num_queries=QUERIES,
             num_episodes=10**6, episodes_seed=0))


def episode_cpu_seconds(dataset, episodes: int) -> float:
    """Median CPU seconds of one whole ``EpisodicDataset`` item (the clips,
    the stacking, packing and seeding), in this process."""
    times = []
    for i in range(episodes):
        start = time.process_time()
        dataset[i]
        times.append(time.process_time() - start)
    return float(np.median(times))


def episodes_per_second(dataset, workers: int,
                        episodes: int) -> Tuple[float, float]:
    """Through the real torch DataLoader: ``(episodes per second (wall),
    CPU seconds the workers spent per episode)``. The workers' CPU time
    (``RUSAGE_CHILDREN`` once they have exited) includes handing each
    episode to the main process (36 MB of uint8 frames through shared
    memory) and hardly depends on the load of the machine."""
    import resource

    from mmengine.dataset import pseudo_collate
    warm = 2 * workers
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, range(warm + episodes)),
        batch_size=1, num_workers=workers, collate_fn=pseudo_collate,
        persistent_workers=False, prefetch_factor=2)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for i, _ in enumerate(loader):
        if i == warm - 1:
            start = time.perf_counter()
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime -
           before.ru_stime)
    return episodes / took, cpu / (warm + episodes)


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'data', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def folder_bytes(path: str) -> int:
    return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())


def measure_kind(kind: str, work: str, args) -> Dict[str, float]:
    k = KINDS[kind]
    videos = osp.join(work, kind, 'videos')
    frames = osp.join(work, kind, 'frames')
    os.makedirs(videos, exist_ok=True)
    names = [f'clip_{i:03d}{k["ext"]}' for i in range(args.clips)]
    start = time.perf_counter()
    for i, name in enumerate(names):
        if not osp.isfile(osp.join(videos, name)):
            write_clip(osp.join(videos, name), kind, seed=i)
    footage_s = time.perf_counter() - start
    tool = load_tool('extract_frames')
    if osp.isdir(frames):
        shutil.rmtree(frames)
    results = tool.extract_videos(names, videos, frames,
                                  tool.ExtractSettings(), workers=1,
                                  progress=False)
    assert all(r.status == 'done' for r in results), results
    row = dict(
        footage_s=footage_s,
        kbps=np.mean([osp.getsize(osp.join(videos, n)) * 8 / 1000 /
                      k['seconds'] for n in names]),
        build_s=float(np.mean([r.seconds for r in results])),
        disk_mb=np.mean([folder_bytes(osp.join(frames, n)) / 1e6
                         for n in names]),
        video_mb=np.mean([osp.getsize(osp.join(videos, n)) / 1e6
                          for n in names]))
    vpaths = [osp.join(videos, n) for n in names]
    fpaths = [osp.join(frames, n) for n in names]
    row['video_ms'], row['video_wall_ms'] = ms_per_clip(
        vpaths, False, args.repeats)
    row['frames_ms'], row['frames_wall_ms'] = ms_per_clip(
        fpaths, True, args.repeats)
    row['psnr'] = psnr_vs_video(vpaths, fpaths)
    if args.transcodes:
        for number, (label, (ext, codec)) in enumerate(TRANSCODES.items()):
            folder = osp.join(work, kind, f'transcode_{number}')
            os.makedirs(folder, exist_ok=True)
            paths = [osp.join(folder, osp.splitext(n)[0] + ext)
                     for n in names]
            for src, dst in zip(vpaths, paths):
                if not osp.isfile(dst):
                    transcode(src, dst, codec)
            row[f'{label} ms'] = ms_per_clip(paths, False, args.repeats)[0]
            row[f'{label} MB'] = float(
                np.mean([osp.getsize(p) / 1e6 for p in paths]))
    for fast, root in ((False, videos), (True, frames)):
        name = 'frames' if fast else 'video'
        dataset = episodic_dataset(root, names, fast)
        episodes = args.episodes * (4 if fast else 1)
        row[f'{name}_episode_s'] = episode_cpu_seconds(dataset, episodes)
        for workers in args.workers:
            row[f'{name}_eps_{workers}'], \
                row[f'{name}_worker_s_{workers}'] = episodes_per_second(
                    dataset, workers, episodes)
    return row


def print_tables(rows: Dict[str, Dict[str, float]], args) -> None:
    shots = (('5w1s', WAYS * (1 + QUERIES)), ('5w5s', WAYS * (5 + QUERIES)))
    measured = ' / '.join(str(w) for w in args.workers)
    print('\n| clip (like) | format | input | ms per clip per core (CPU; '
          'wall) | ' + ' | '.join(f'core-s per {s} episode ({n} clips)'
                                  for s, n in shots) +
          ' | core-s per 5w1s episode: in-process item; in a DataLoader '
          f'worker ({args.workers[0]} workers) | DataLoader '
          'episodes/s,'
          f' {measured} workers (measured) | episodes/s on 8 / 16 workers '
          '(projected) |')
    print('|' + '---|' * 9)
    for kind, row in rows.items():
        k = KINDS[kind]
        w, h = k['size']
        clip = f'{k["like"]}: {k["seconds"]} s, {w}x{h}, {k["fps"]} fps'
        for fast in (False, True):
            name = 'frames' if fast else 'video'
            ms = row[f'{name}_ms']
            item = row[f'{name}_worker_s_{args.workers[0]}']
            cells = [
                '' if fast else clip, '' if fast else k['format'],
                'JPEG frames (fast path)' if fast else 'video, on the fly',
                f'{ms:.1f}; {row[f"{name}_wall_ms"]:.1f}',
                *(f'{ms * n / 1000:.2f}' for _, n in shots),
                f'{row[f"{name}_episode_s"]:.2f}; {item:.2f}',
                ' / '.join(f'{row[f"{name}_eps_{w}"]:.2f}'
                           for w in args.workers),
                ' / '.join(f'{n / item:.0f}' for n in (8, 16))
            ]
            print('| ' + ' | '.join(cells) + ' |')
    print('\n| clip (like) | video bitrate | speed-up per clip (CPU) | '
          'frames on disk per 1,000 clips (videos) | '
          'build time per 1,000 clips (1 core, CPU) | PSNR vs on the fly |')
    print('|' + '---|' * 6)
    for kind, row in rows.items():
        print(f'| {KINDS[kind]["like"]} | {row["kbps"]:.0f} kb/s | '
              f'{row["video_ms"] / row["frames_ms"]:.1f}x | '
              f'{row["disk_mb"]:.2f} GB ({row["video_mb"]:.2f} GB) | '
              f'{row["build_s"] * 1000 / 60:.1f} min | '
              f'{row["psnr"]:.1f} dB |')
    if args.transcodes:
        print('\nThe other candidate, transcodes read by the unchanged decord '
              'pipeline (ms per clip per core, CPU; disk per 1,000 clips):\n')
        print('| clip (like) | ' + ' | '.join(TRANSCODES) +
              ' | JPEG frames |')
        print('|' + '---|' * (len(TRANSCODES) + 2))
        for kind, row in rows.items():
            cells = [f'{row[f"{t} ms"]:.1f} ms, {row[f"{t} MB"]:.2f} GB'
                     for t in TRANSCODES]
            print(f'| {KINDS[kind]["like"]} | ' + ' | '.join(cells) +
                  f' | {row["frames_ms"]:.1f} ms, {row["disk_mb"]:.2f} GB |')


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--kinds', nargs='+', default=list(KINDS),
                   choices=list(KINDS))
    p.add_argument('--clips', type=int, default=10,
                   help='clips per kind (episodes reuse them)')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--episodes', type=int, default=8,
                   help='timed DataLoader episodes on videos (x4 on frames)')
    p.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    p.add_argument('--no-transcodes', dest='transcodes',
                   action='store_false',
                   help='skip the short-GOP transcode candidates')
    p.add_argument('--work-dir', help='keep the clips here (default: a '
                   'temporary folder, removed)')
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(0)  # as MMEngine's env_cfg (opencv_num_threads=0)
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    from m2df_mmaction.datasets.video_check import quiet_decord
    quiet_decord()
    work = args.work_dir or tempfile.mkdtemp(prefix='train_input_speed_')
    print(f'{os.cpu_count()} cores; load average at start '
          f'{os.getloadavg()[0]:.2f}; clips in {work}')
    rows = {}
    try:
        for kind in args.kinds:
            rows[kind] = measure_kind(kind, work, args)
            print(f'{kind}: {rows[kind]}', flush=True)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    print_tables(rows, args)
    print(f'\nload average at the end {os.getloadavg()[0]:.2f} '
          '(1 min). 8 / 16 workers: PROJECTED as 8 or 16 divided by the CPU '
          'seconds a DataLoader worker spends per episode, not measured.')


if __name__ == '__main__':
    main()
