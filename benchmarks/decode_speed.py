# Copyright (c) m2df_mmaction contributors.
"""Video decoding speed on the synthetic videos, in videos per second.

Compares decord reading only the 8 sampled frames, decord reading every
frame, and MMAction2's ``DecordInit`` + ``SampleFrames`` + ``DecordDecode``
pipeline (as the test pipeline runs it)::

    python benchmarks/decode_speed.py [--videos 200] [--frames 8]
"""
import argparse
import glob
import os.path as osp
import time

import decord
import numpy as np
from mmaction.datasets.transforms import DecordDecode, DecordInit, SampleFrames

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data',
                                                        'synthetic'))
    parser.add_argument('--videos', type=int, default=200)
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=3)
    return parser.parse_args()


def sampled(path, num_frames):
    reader = decord.VideoReader(path, num_threads=1)
    index = np.linspace(0, len(reader) - 1, num_frames).round().astype(int)
    return reader.get_batch(index).asnumpy()


def whole(path, num_frames):
    reader = decord.VideoReader(path, num_threads=1)
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def make_pipeline(num_frames):
    transforms = [
        DecordInit(),
        SampleFrames(clip_len=1, frame_interval=1, num_clips=num_frames,
                     test_mode=True),
        DecordDecode()
    ]

    def run(path, _):
        results = dict(filename=path, start_index=0, modality='RGB')
        for transform in transforms:
            results = transform(results)
        return results['imgs']

    return run


def main():
    args = parse_args()
    paths = sorted(
        glob.glob(osp.join(args.data_root, '**', '*.mp4'),
                  recursive=True))[:args.videos]
    if not paths:
        raise SystemExit(f'no .mp4 under {args.data_root}; run '
                         'tools/data/make_synthetic.py first')
    frames = len(decord.VideoReader(paths[0]))
    shape = sampled(paths[0], args.frames).shape
    print(f'{len(paths)} videos of {frames} frames, {shape[1]}x{shape[2]} '
          f'px, {args.frames} sampled frames; best of {args.repeats}')
    for name, fn in (('decord, sampled frames only', sampled),
                     ('decord, whole video', whole),
                     ('DecordInit+SampleFrames+DecordDecode',
                      make_pipeline(args.frames))):
        best = float('inf')
        for _ in range(args.repeats):
            start = time.perf_counter()
            for path in paths:
                fn(path, args.frames)
            best = min(best, time.perf_counter() - start)
        print(f'  {name:<40} {len(paths) / best:8.1f} videos/s '
              f'({1000 * best / len(paths):.2f} ms/video)')


if __name__ == '__main__':
    main()
