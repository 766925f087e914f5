# Copyright (c) m2df_mmaction contributors.
"""A seeded synthetic few-shot video benchmark that writes real mp4 files.

Every class is a *motion program*: a function of normalised time
``t in [0, 1]`` that gives the state of one foreground object (centre,
scale, angle, opacity).  Classes come in **time-reversal pairs**: the second
class of a pair is, frame for frame, the first class played backwards (for
example "growing" / "shrinking", "fading in" / "fading out", "moving left
then up" / "moving down then right").  Both classes of a pair are always in
the same split, so an order-blind model (the temporal mean of per-frame
features) cannot tell them apart, while an order-aware one (OTAM) can.

Appearance is random per video (shape, colour, size, small offset of the
path, background colour, static clutter blobs, pixel noise) and carries no
class information.  The position of the object encodes where it is on the
class's path (paths are laid out around the frame centre with only a small
random offset), so a per-frame encoder sees the trajectory as a sequence of
positions / sizes / angles / opacities.

The splits have disjoint classes (24 train / 8 val / 16 test classes, i.e.
12 / 4 / 8 reversal pairs, roughly the 64 / 12 / 24 proportions of the
SSv2 few-shot split) and every family of motion is represented in the
training split.

Layout written by :func:`write_benchmark`::

    out_dir/
        manifest.json
        train.txt  val.txt  test.txt                 # "<path> <label>"
        train_classes.txt  val_classes.txt  test_classes.txt
        videos/<split>/<class_slug>/<idx>.mp4

The annotation files use the MMAction2 ``VideoDataset`` format, with paths
relative to ``out_dir`` (set ``data_prefix=dict(video=out_dir)``).
"""
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from .programs import (MotionClass, Program, appear, fade_in, grow, move_scale,
                       orbit, rotate, still_then_move, straight, turn)
from .rendering import object_states, render_video
from .video_io import write_video
from .video_params import VideoParams, sample_video_params

__all__ = [
    'MotionClass', 'SPLITS', 'CLASS_CATALOGUE', 'VideoParams',
    'get_split_classes', 'sample_video_params', 'object_states',
    'render_video', 'write_video', 'write_benchmark'
]

SPLITS: Tuple[str, ...] = ('train', 'val', 'test')

# Version of the generator; part of the manifest so that a folder written by
# an older, different generator is not silently reused.
GENERATOR_VERSION = 1


# (family, forward name, reversed name, program, oriented, split)
_PAIRS: Tuple[Tuple[str, str, str, Program, bool, str], ...] = (
    # ---- train: 12 pairs, every family ------------------------------------
    ('straight', 'moving right', 'moving left', straight('right'), False,
     'train'),
    ('straight', 'moving down', 'moving up', straight('down'), False,
     'train'),
    ('turn', 'moving left then up', 'moving down then right',
     turn('left', 'up'), False, 'train'),
    ('turn', 'moving right then down', 'moving up then left',
     turn('right', 'down'), False, 'train'),
    ('still_move', 'still then moving right', 'moving left then still',
     still_then_move('right'), False, 'train'),
    ('still_move', 'still then moving down', 'moving up then still',
     still_then_move('down'), False, 'train'),
    ('move_scale', 'moving right while growing',
     'moving left while shrinking', move_scale('right', True), False,
     'train'),
    ('move_scale', 'moving down while growing', 'moving up while shrinking',
     move_scale('down', True), False, 'train'),
    ('scale', 'growing', 'shrinking', grow(False), False, 'train'),
    ('visibility', 'fading in', 'fading out', fade_in(False), False,
     'train'),
    ('visibility', 'fading in while growing', 'fading out while shrinking',
     fade_in(True), False, 'train'),
    ('rotation', 'rotating clockwise', 'rotating counter-clockwise',
     rotate(False), True, 'train'),
    # ---- val: 4 pairs -------------------------------------------------------
    ('straight', 'moving down-right', 'moving up-left',
     straight('down-right'), False, 'val'),
    ('turn', 'moving left then down', 'moving up then right',
     turn('left', 'down'), False, 'val'),
    ('move_scale', 'moving right while shrinking',
     'moving left while growing', move_scale('right', False), False, 'val'),
    ('rotation', 'rotating clockwise then still',
     'still then rotating counter-clockwise', rotate(True), True, 'val'),
    # ---- test: 8 pairs ------------------------------------------------------
    ('straight', 'moving up-right', 'moving down-left',
     straight('up-right'), False, 'test'),
    ('turn', 'moving right then up', 'moving down then left',
     turn('right', 'up'), False, 'test'),
    ('still_move', 'still then moving left', 'moving right then still',
     still_then_move('left'), False, 'test'),
    ('still_move', 'still then moving up', 'moving down then still',
     still_then_move('up'), False, 'test'),
    ('move_scale', 'moving down while shrinking', 'moving up while growing',
     move_scale('down', False), False, 'test'),
    ('scale', 'growing then still', 'still then shrinking', grow(True),
     False, 'test'),
    ('visibility', 'appearing', 'vanishing', appear, False, 'test'),
    ('orbit', 'orbiting clockwise', 'orbiting counter-clockwise', orbit,
     False, 'test'),
)


def _slug(name: str) -> str:
    return name.replace('-', '_').replace(' ', '_')


def _build_catalogue() -> Dict[str, List[MotionClass]]:
    cat: Dict[str, List[MotionClass]] = {s: [] for s in SPLITS}
    for family, fwd, rev, prog, oriented, split in _PAIRS:
        cat[split].append(
            MotionClass(fwd, _slug(fwd), prog, False, family, rev, oriented))
        cat[split].append(
            MotionClass(rev, _slug(rev), prog, True, family, fwd, oriented))
    return cat


#: Classes of each split, in label order (pairs are adjacent: 2k, 2k + 1).
CLASS_CATALOGUE: Dict[str, List[MotionClass]] = _build_catalogue()


def get_split_classes(split: str,
                      num_pairs: Optional[int] = None) -> List[MotionClass]:
    """Classes of one split in label order.

    Args:
        split (str): One of ``'train'``, ``'val'``, ``'test'``.
        num_pairs (int, optional): Keep only the first ``num_pairs``
            reversal pairs (``2 * num_pairs`` classes). Defaults to all.

    Returns:
        list[MotionClass]: The classes; label ``i`` is element ``i``.
    """
    classes = CLASS_CATALOGUE[split]
    if num_pairs is None:
        return list(classes)
    if not 1 <= num_pairs <= len(classes) // 2:
        raise ValueError(f'num_pairs for {split!r} must be in '
                         f'[1, {len(classes) // 2}], got {num_pairs}')
    return list(classes[:2 * num_pairs])


# --------------------------------------------------------------------------
# Benchmark writer
# --------------------------------------------------------------------------
def _video_rng(seed: int, split: str, label: int,
               idx: int) -> np.random.Generator:
    ss = np.random.SeedSequence([seed, SPLITS.index(split), label, idx])
    return np.random.default_rng(ss)


def write_benchmark(out_dir: str,
                    *,
                    seed: int = 0,
                    videos_per_class: Optional[Dict[str, int]] = None,
                    pairs_per_split: Optional[Dict[str, int]] = None,
                    num_frames: int = 16,
                    size: int = 64,
                    trail: int = 0,
                    trail_alpha: float = 0.4,
                    radius: Tuple[float, float] = (0.09, 0.13),
                    amp: Tuple[float, float] = (0.5, 0.6),
                    jitter: float = 0.06,
                    clutter: int = 2,
                    noise: float = 4.0,
                    fps: float = 8.0,
                    verbose: bool = False) -> dict:
    """Write the synthetic benchmark (mp4 videos and annotation files).

    Calling it again with the same parameters on a complete folder does
    nothing and returns the existing manifest.

    Args:
        out_dir (str): Output folder.
        seed (int): Seed; the same seed and parameters give the same frames.
        videos_per_class (dict[str, int], optional): Videos per class for
            each split. Defaults to ``{'train': 60, 'val': 20, 'test': 20}``.
        pairs_per_split (dict[str, int], optional): Number of reversal pairs
            (classes / 2) per split; the first pairs of the catalogue are
            kept. Defaults to all: ``{'train': 12, 'val': 4, 'test': 8}``.
        num_frames (int): Frames per video. Defaults to 16 (models sample 8).
        size (int): Frame height = width in pixels. Defaults to 64.
        trail (int): Ghosts drawn behind the object (see
            :func:`render_video`). Defaults to 0.
        trail_alpha (float): Opacity of the first ghost. Defaults to 0.4.
        radius (tuple[float, float]): Object radius range (frame units).
        amp (tuple[float, float]): Travel distance range (frame units).
        jitter (float): Max offset of the path (frame units).
        clutter (int): Max number of static background blobs.
        noise (float): Max std of the pixel noise (0-255 scale).
        fps (float): Frame rate stored in the files.
        verbose (bool): Print progress per split.

    Returns:
        dict: The manifest (also written to ``out_dir/manifest.json``):
        ``params``, ``counts`` (videos and classes per split) and
        ``complete``.

    Raises:
        FileExistsError: If ``out_dir`` holds a benchmark written with
            other parameters, or other files that are not a benchmark.
    """
    vpc = {'train': 60, 'val': 20, 'test': 20}
    vpc.update(videos_per_class or {})
    pps = {s: len(CLASS_CATALOGUE[s]) // 2 for s in SPLITS}
    pps.update(pairs_per_split or {})
    for s in SPLITS:
        if vpc[s] < 1:
            raise ValueError(f'videos_per_class[{s!r}] must be >= 1')
    if num_frames < 2 or size < 16 or size % 2:
        raise ValueError('need num_frames >= 2 and an even size >= 16')
    params = dict(
        generator_version=GENERATOR_VERSION,
        seed=int(seed),
        videos_per_class={s: int(vpc[s]) for s in SPLITS},
        pairs_per_split={s: int(pps[s]) for s in SPLITS},
        num_frames=int(num_frames),
        size=int(size),
        trail=int(trail),
        trail_alpha=float(trail_alpha),
        radius=[float(v) for v in radius],
        amp=[float(v) for v in amp],
        jitter=float(jitter),
        clutter=int(clutter),
        noise=float(noise),
        fps=float(fps))
    # json round trip so that comparisons see exactly what is on disk
    params = json.loads(json.dumps(params))
    manifest_path = osp.join(out_dir, 'manifest.json')
    if osp.isfile(manifest_path):
        with open(manifest_path) as f:
            old = json.load(f)
        if old.get('params') != params:
            diff = sorted(k for k in set(params) | set(old.get('params', {}))
                          if old.get('params', {}).get(k) != params.get(k))
            raise FileExistsError(
                f'{out_dir} holds a synthetic benchmark written with other '
                f'parameters (differ: {", ".join(diff)}). Pick another '
                f'folder or delete this one.')
        if old.get('complete'):
            return old
        # same parameters, but an interrupted run: write it again
    elif osp.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(
            f'{out_dir} is not empty and has no manifest.json; it is not a '
            f'synthetic benchmark. Pick another folder or delete this one.')
    os.makedirs(out_dir, exist_ok=True)
    manifest = dict(params=params, counts={}, complete=False)
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)

    t0 = time.time()
    render_kw = dict(num_frames=num_frames, size=size, trail=trail,
                     trail_alpha=trail_alpha)
    sample_kw = dict(radius=tuple(radius), amp=tuple(amp), jitter=jitter,
                     clutter=clutter, noise=noise)
    for split in SPLITS:
        classes = get_split_classes(split, pps[split])
        lines = []
        for label, cls in enumerate(classes):
            for idx in range(vpc[split]):
                rng = _video_rng(seed, split, label, idx)
                p = sample_video_params(rng, cls, **sample_kw)
                frames = render_video(cls, p, **render_kw)
                rel = f'videos/{split}/{cls.slug}/{idx}.mp4'
                write_video(osp.join(out_dir, rel), frames, fps)
                lines.append(f'{rel} {label}')
        with open(osp.join(out_dir, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        with open(osp.join(out_dir, f'{split}_classes.txt'), 'w') as f:
            f.write('\n'.join(c.name for c in classes) + '\n')
        manifest['counts'][split] = dict(
            classes=len(classes), videos=len(lines),
            videos_per_class=vpc[split])
        if verbose:
            print(f'{split}: {len(classes)} classes, {len(lines)} videos '
                  f'({time.time() - t0:.1f} s)')
    manifest['complete'] = True
    manifest['seconds'] = round(time.time() - t0, 2)
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest
