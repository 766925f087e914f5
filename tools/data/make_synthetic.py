# Copyright (c) m2df_mmaction contributors.
"""Write the built-in synthetic few-shot video benchmark.

Example::

    python tools/data/make_synthetic.py --out data/synthetic --seed 0

Writes ``<out>/videos/<split>/<class>/<idx>.mp4``, ``<out>/<split>.txt``
(MMAction2 VideoDataset annotations), ``<out>/<split>_classes.txt`` and
``<out>/manifest.json``. Does nothing if ``<out>`` already holds a complete
benchmark written with the same parameters; stops with an error if it holds
one written with other parameters.

``--world N`` writes instead the first N clips of the captioned pretraining
world that ``tools/pretrain_tiny_clip.py`` trains on, to look at them (the
same compositions, captions and appearance; all 16 frames at 64 px instead
of the sampled ones): ``<out>/videos/<idx>.mp4`` and ``<out>/captions.txt``::

    python tools/data/make_synthetic.py --world 50 --out data/synthetic_world
"""
import argparse
import os
import sys
import time

from m2df_mmaction.synthetic import (SPLITS, CaptionedWorld, write_benchmark,
                                     write_world)
from m2df_mmaction.utils.errors import run_main


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Write the synthetic few-shot video benchmark.')
    p.add_argument('--out', default='data/synthetic', help='output folder')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--size', type=int, default=64,
                   help='frame height = width (pixels)')
    p.add_argument('--num-frames', type=int, default=16,
                   help='frames per video')
    p.add_argument('--train-videos', type=int, default=None,
                   help='videos per training class (default 60)')
    p.add_argument('--val-videos', type=int, default=None,
                   help='videos per val class (default 20)')
    p.add_argument('--test-videos', type=int, default=None,
                   help='videos per test class (default 20)')
    for s, n in (('train', 12), ('val', 4), ('test', 8)):
        p.add_argument(f'--{s}-pairs', type=int, default=None,
                       help=f'reversal pairs (classes / 2) in {s} '
                       f'(default and max {n})')
    p.add_argument('--trail', type=int, default=None,
                   help='ghosts drawn behind the moving object')
    p.add_argument('--world', type=int, default=None, metavar='N',
                   help='write N clips of the captioned pretraining world '
                   'instead of the benchmark')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.world is not None:
        return write_world_clips(args)
    vpc = {s: getattr(args, f'{s}_videos') for s in SPLITS}
    pps = {s: getattr(args, f'{s}_pairs') for s in SPLITS}
    kwargs = dict(
        seed=args.seed, size=args.size, num_frames=args.num_frames,
        videos_per_class={k: v for k, v in vpc.items() if v is not None},
        pairs_per_split={k: v for k, v in pps.items() if v is not None},
        verbose=True)
    if args.trail is not None:
        kwargs['trail'] = args.trail
    t0 = time.time()
    try:
        manifest = write_benchmark(args.out, **kwargs)
    except FileExistsError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    dt = time.time() - t0
    for s in SPLITS:
        c = manifest['counts'][s]
        print(f'{s:5s}: {c["classes"]:3d} classes, {c["videos"]:5d} videos')
    if dt < 0.5 and manifest.get('seconds', 0) > dt:
        print(f'{args.out} is already complete (same parameters); nothing '
              f'to do.')
    print(f'done in {dt:.1f} s -> {args.out}')
    return 0


def write_world_clips(args: argparse.Namespace) -> int:
    """``--world N``: the first N clips of the pretraining stream."""
    if args.world < 1:
        print('error: --world must be >= 1', file=sys.stderr)
        return 1
    if os.path.isfile(os.path.join(args.out, 'manifest.json')):
        print(f'error: {args.out} holds a benchmark; pick another --out',
              file=sys.stderr)
        return 1
    world = CaptionedWorld(trail=args.trail or 0)
    t0 = time.time()
    path = write_world(args.out, args.world, seed=args.seed, world=world)
    print(f'{args.world} world clips in {time.time() - t0:.1f} s -> {path}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
