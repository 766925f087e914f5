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
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'MotionClass', 'SPLITS', 'CLASS_CATALOGUE', 'VideoParams',
    'get_split_classes', 'sample_video_params', 'object_states',
    'render_video', 'write_video', 'write_benchmark'
]

SPLITS: Tuple[str, ...] = ('train', 'val', 'test')

# Version of the generator; part of the manifest so that a folder written by
# an older, different generator is not silently reused.
GENERATOR_VERSION = 1

# A state is (cx, cy, scale, angle, alpha): centre in units of the frame
# size (0..1), scale relative to the per-video base size, angle in radians
# (clockwise on screen, since y points down) and opacity in [0, 1].
State = Tuple[float, float, float, float, float]
Program = Callable[[float, 'VideoParams'], State]


@dataclass(frozen=True)
class MotionClass:
    """One class of the benchmark.

    Attributes:
        name (str): Readable class name, e.g. ``'moving left then up'``.
        slug (str): File-system friendly name, e.g. ``'moving_left_then_up'``.
        program (Callable): ``program(t, params) -> (cx, cy, scale, angle,
            alpha)`` for ``t`` in ``[0, 1]``, in *forward* time.
        reverse (bool): If True the class is ``program`` played backwards
            (``t -> 1 - t``); frames are the forward frames in reverse order.
        family (str): Family of motion, e.g. ``'turn'``.
        partner (str): Name of the time-reversal partner class.
        oriented (bool): Whether the object must have an orientation that
            can be seen (rotation classes).
    """

    name: str
    slug: str
    program: Program
    reverse: bool
    family: str
    partner: str
    oriented: bool = False


@dataclass(frozen=True)
class VideoParams:
    """Per-video random state (appearance and small path offsets).

    Attributes:
        shape (int): Index into the shape table.
        color (tuple[int, int, int]): Object RGB colour.
        radius (float): Base object radius in units of the frame size.
        amp (float): Travel distance of a full-length move, in frame units.
        offset (tuple[float, float]): Offset of the whole path (frame units).
        angle0 (float): Initial angle of the object (radians).
        spin (float): Total rotation of rotation programs (radians, > 0).
        bg (tuple[int, int, int]): Background RGB colour.
        clutter (tuple): Static clutter blobs ``(x, y, r, (R, G, B))`` in
            frame units.
        noise (float): Std of the Gaussian pixel noise (0-255 scale).
        noise_seed (int): Seed of the pixel noise.
    """

    shape: int
    color: Tuple[int, int, int]
    radius: float
    amp: float
    offset: Tuple[float, float]
    angle0: float
    spin: float
    bg: Tuple[int, int, int]
    clutter: Tuple[Tuple[float, float, float, Tuple[int, int, int]], ...]
    noise: float
    noise_seed: int


# --------------------------------------------------------------------------
# Shapes: polygons in units of the radius, centred at 0.
# --------------------------------------------------------------------------
def _regular(n: int, phase: float = 0.0) -> np.ndarray:
    a = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(a), np.sin(a)], 1)


_SHAPES: Tuple[np.ndarray, ...] = (
    _regular(24),  # 0 disk
    _regular(4, np.pi / 4) * 1.2,  # 1 square
    _regular(3, -np.pi / 2) * 1.15,  # 2 triangle
    _regular(4) * 1.15,  # 3 diamond
    np.array([[-1, -1], [-0.2, -1], [-0.2, 0.4], [1, 0.4], [1, 1], [-1, 1]],
             float),  # 4 L (oriented)
    np.array([[-1, -0.35], [0.2, -0.35], [0.2, -0.9], [1.1, 0], [0.2, 0.9],
              [0.2, 0.35], [-1, 0.35]], float),  # 5 arrow (oriented)
    np.array([[-1, -0.3], [0.3, -0.3], [0.3, -1], [1, -1], [1, 0.3],
              [-1, 0.3]], float),  # 6 flag / key (oriented)
)
_ORIENTED_SHAPES: Tuple[int, ...] = (4, 5, 6)


# --------------------------------------------------------------------------
# Motion programs (forward time).  Unit vectors on screen (y down).
# --------------------------------------------------------------------------
_DIRS: Dict[str, Tuple[float, float]] = {
    'right': (1.0, 0.0),
    'left': (-1.0, 0.0),
    'down': (0.0, 1.0),
    'up': (0.0, -1.0),
    'down-right': (0.7071, 0.7071),
    'up-left': (-0.7071, -0.7071),
    'up-right': (0.7071, -0.7071),
    'down-left': (-0.7071, 0.7071),
}


def _ramp(t: float, t0: float, t1: float) -> float:
    """Linear 0 -> 1 between ``t0`` and ``t1``, clamped."""
    return float(min(1.0, max(0.0, (t - t0) / (t1 - t0))))


def _centre(p: VideoParams) -> Tuple[float, float]:
    return 0.5 + p.offset[0], 0.5 + p.offset[1]


def _straight(d: str) -> Program:
    dx, dy = _DIRS[d]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        s = (t - 0.5) * p.amp
        return cx + dx * s, cy + dy * s, 1.0, p.angle0, 1.0

    return prog


def _turn(d1: str, d2: str) -> Program:
    (ax, ay), (bx, by) = _DIRS[d1], _DIRS[d2]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        h = 0.5 * p.amp
        # Path corner-to-corner, centred on the frame: start = -(a+b)h/2.
        u, v = min(t, 0.5) * 2 * h, max(t - 0.5, 0.0) * 2 * h
        x = cx - 0.5 * h * (ax + bx) + ax * u + bx * v
        y = cy - 0.5 * h * (ay + by) + ay * u + by * v
        return x, y, 1.0, p.angle0, 1.0

    return prog


def _still_then_move(d: str) -> Program:
    dx, dy = _DIRS[d]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        s = (_ramp(t, 0.5, 1.0) - 0.5) * 0.7 * p.amp
        return cx + dx * s, cy + dy * s, 1.0, p.angle0, 1.0

    return prog


def _move_scale(d: str, grow: bool) -> Program:
    dx, dy = _DIRS[d]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        s = (t - 0.5) * 0.8 * p.amp
        k = t if grow else 1.0 - t
        return cx + dx * s, cy + dy * s, 0.5 + 1.0 * k, p.angle0, 1.0

    return prog


def _grow(hold: bool) -> Program:

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        k = _ramp(t, 0.0, 0.5) if hold else t
        return cx, cy, 0.4 + 1.4 * k, p.angle0, 1.0

    return prog


def _fade_in(grow: bool) -> Program:

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        scale = 0.5 + 1.0 * t if grow else 1.2
        return cx, cy, scale, p.angle0, 0.05 + 0.95 * t

    return prog


def _appear(t: float, p: VideoParams) -> State:
    cx, cy = _centre(p)
    return cx, cy, 1.2, p.angle0, 1.0 if t >= 0.5 else 0.0


def _rotate(stop: bool) -> Program:

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = _centre(p)
        k = _ramp(t, 0.0, 0.5) if stop else t
        return cx, cy, 1.3, p.angle0 + p.spin * k, 1.0

    return prog


def _orbit(t: float, p: VideoParams) -> State:
    cx, cy = _centre(p)
    r = 0.45 * p.amp
    a = p.angle0 + 1.5 * np.pi * t  # clockwise on screen
    return cx + r * np.cos(a), cy + r * np.sin(a), 1.0, p.angle0, 1.0


# (family, forward name, reversed name, program, oriented, split)
_PAIRS: Tuple[Tuple[str, str, str, Program, bool, str], ...] = (
    # ---- train: 12 pairs, every family ------------------------------------
    ('straight', 'moving right', 'moving left', _straight('right'), False,
     'train'),
    ('straight', 'moving down', 'moving up', _straight('down'), False,
     'train'),
    ('turn', 'moving left then up', 'moving down then right',
     _turn('left', 'up'), False, 'train'),
    ('turn', 'moving right then down', 'moving up then left',
     _turn('right', 'down'), False, 'train'),
    ('still_move', 'still then moving right', 'moving left then still',
     _still_then_move('right'), False, 'train'),
    ('still_move', 'still then moving down', 'moving up then still',
     _still_then_move('down'), False, 'train'),
    ('move_scale', 'moving right while growing',
     'moving left while shrinking', _move_scale('right', True), False,
     'train'),
    ('move_scale', 'moving down while growing', 'moving up while shrinking',
     _move_scale('down', True), False, 'train'),
    ('scale', 'growing', 'shrinking', _grow(False), False, 'train'),
    ('visibility', 'fading in', 'fading out', _fade_in(False), False,
     'train'),
    ('visibility', 'fading in while growing', 'fading out while shrinking',
     _fade_in(True), False, 'train'),
    ('rotation', 'rotating clockwise', 'rotating counter-clockwise',
     _rotate(False), True, 'train'),
    # ---- val: 4 pairs -------------------------------------------------------
    ('straight', 'moving down-right', 'moving up-left',
     _straight('down-right'), False, 'val'),
    ('turn', 'moving left then down', 'moving up then right',
     _turn('left', 'down'), False, 'val'),
    ('move_scale', 'moving right while shrinking',
     'moving left while growing', _move_scale('right', False), False, 'val'),
    ('rotation', 'rotating clockwise then still',
     'still then rotating counter-clockwise', _rotate(True), True, 'val'),
    # ---- test: 8 pairs ------------------------------------------------------
    ('straight', 'moving up-right', 'moving down-left',
     _straight('up-right'), False, 'test'),
    ('turn', 'moving right then up', 'moving down then left',
     _turn('right', 'up'), False, 'test'),
    ('still_move', 'still then moving left', 'moving right then still',
     _still_then_move('left'), False, 'test'),
    ('still_move', 'still then moving up', 'moving down then still',
     _still_then_move('up'), False, 'test'),
    ('move_scale', 'moving down while shrinking', 'moving up while growing',
     _move_scale('down', False), False, 'test'),
    ('scale', 'growing then still', 'still then shrinking', _grow(True),
     False, 'test'),
    ('visibility', 'appearing', 'vanishing', _appear, False, 'test'),
    ('orbit', 'orbiting clockwise', 'orbiting counter-clockwise', _orbit,
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
# Sampling and rendering
# --------------------------------------------------------------------------
def _bright_color(rng: np.random.Generator) -> Tuple[int, int, int]:
    hsv = np.array([[[rng.integers(0, 180), rng.integers(160, 256),
                      rng.integers(200, 256)]]], np.uint8)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def sample_video_params(rng: np.random.Generator,
                        cls: MotionClass,
                        *,
                        radius: Tuple[float, float] = (0.09, 0.13),
                        amp: Tuple[float, float] = (0.5, 0.6),
                        jitter: float = 0.06,
                        clutter: int = 2,
                        noise: float = 4.0) -> VideoParams:
    """Draw the per-video random state for one video of ``cls``.

    Args:
        rng (np.random.Generator): Source of randomness.
        cls (MotionClass): The class (only ``oriented`` is used).
        radius (tuple[float, float]): Range of the base object radius, as a
            fraction of the frame size.
        amp (tuple[float, float]): Range of the travel distance of a full
            move, as a fraction of the frame size (the speed).
        jitter (float): Maximum absolute offset of the whole path, as a
            fraction of the frame size (uniform in ``[-jitter, jitter]``).
        clutter (int): Maximum number of static background blobs (uniform in
            ``0..clutter``).
        noise (float): Maximum std of Gaussian pixel noise (0-255 scale);
            the std is uniform in ``[0, noise]``.

    Returns:
        VideoParams: The per-video random state.
    """
    if cls.oriented:
        shape = int(rng.choice(_ORIENTED_SHAPES))
    else:
        shape = int(rng.integers(len(_SHAPES)))
    color = _bright_color(rng)
    bg = tuple(int(v) for v in rng.integers(0, 70, size=3))
    blobs = []
    for _ in range(int(rng.integers(0, clutter + 1))):
        c = tuple(int(v) for v in (np.array(bg) + rng.integers(20, 60, 3)))
        blobs.append((float(rng.uniform(0.05, 0.95)),
                      float(rng.uniform(0.05, 0.95)),
                      float(rng.uniform(0.04, 0.09)), c))
    return VideoParams(
        shape=shape,
        color=color,
        radius=float(rng.uniform(*radius)),
        amp=float(rng.uniform(*amp)),
        offset=(float(rng.uniform(-jitter, jitter)),
                float(rng.uniform(-jitter, jitter))),
        angle0=float(rng.uniform(0, 2 * np.pi)),
        spin=float(rng.uniform(0.45, 0.7) * np.pi),
        bg=bg,  # type: ignore[arg-type]
        clutter=tuple(blobs),
        noise=float(rng.uniform(0, noise)),
        noise_seed=int(rng.integers(2**31)))


def object_states(cls: MotionClass, params: VideoParams,
                  num_frames: int) -> np.ndarray:
    """Object states of every frame in *forward* program time.

    Args:
        cls (MotionClass): The class.
        params (VideoParams): Per-video random state.
        num_frames (int): Number of frames ``T``.

    Returns:
        np.ndarray: float64 ``[T, 5]`` rows ``(cx, cy, scale, angle,
        alpha)`` for ``t = 0, 1/(T-1), ..., 1`` (not yet reversed).
    """
    ts = np.linspace(0.0, 1.0, num_frames)
    return np.array([cls.program(float(t), params) for t in ts], np.float64)


def _object_mask(size: int, state: Sequence[float], shape: int,
                 radius: float) -> np.ndarray:
    """Anti-aliased coverage mask float32 ``[H, W]`` in ``[0, 1]``."""
    cx, cy, scale, angle, _ = state
    poly = _SHAPES[shape]
    c, s = np.cos(angle), np.sin(angle)
    rot = poly @ np.array([[c, s], [-s, c]])
    pts = (rot * radius * scale + np.array([cx, cy])) * size
    mask = np.zeros((size, size), np.uint8)
    shift = 4
    cv2.fillPoly(mask, [np.round(pts * (1 << shift)).astype(np.int32)], 255,
                 cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def render_video(cls: MotionClass,
                 params: VideoParams,
                 *,
                 num_frames: int = 16,
                 size: int = 64,
                 trail: int = 0,
                 trail_alpha: float = 0.4) -> np.ndarray:
    """Render one video of a class.

    The forward program is rendered for ``t = 0 .. 1``; if ``cls.reverse``
    the frame array is returned reversed in time, so that the two classes
    of a reversal pair rendered from the same ``params`` are exact
    time-reversals of each other (``a == b[::-1]``, byte for byte).

    Args:
        cls (MotionClass): The class.
        params (VideoParams): Per-video random state
            (:func:`sample_video_params`).
        num_frames (int): Number of frames ``T``. Defaults to 16.
        size (int): Frame height and width ``H = W``. Defaults to 64.
        trail (int): Number of faint "ghosts" of the object at earlier
            (forward) program times drawn behind it. They show the direction
            of motion in a single frame; after reversal they lead instead of
            trail. Defaults to 0.
        trail_alpha (float): Opacity of the first ghost (later ghosts fade
            geometrically). Defaults to 0.4.

    Returns:
        np.ndarray: uint8 ``[T, H, W, 3]`` RGB frames.
    """
    states = object_states(cls, params, num_frames)
    dt = 1.0 / max(num_frames - 1, 1)
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = np.array(params.bg, np.float32)
    for x, y, r, col in params.clutter:
        centre = (int(round(x * size * 16)), int(round(y * size * 16)))
        cv2.circle(canvas, centre, int(round(r * size * 16)),
                   tuple(float(v) for v in col), -1, cv2.LINE_AA, 4)
    color = np.array(params.color, np.float32)
    noise_rng = np.random.default_rng(params.noise_seed)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for i, t in enumerate(np.linspace(0.0, 1.0, num_frames)):
        img = canvas.copy()
        layers = []
        for k in range(trail, 0, -1):
            tk = max(0.0, float(t) - k * dt)
            if tk == float(t):
                continue
            st = cls.program(tk, params)
            layers.append((st, trail_alpha * (0.5**(k - 1)) * st[4]))
        layers.append((tuple(states[i]), float(states[i][4])))
        for st, a in layers:
            if a <= 0:
                continue
            m = _object_mask(size, st, params.shape, params.radius)[..., None]
            img = img * (1.0 - a * m) + color * (a * m)
        if params.noise > 0:
            img = img + noise_rng.normal(0.0, params.noise, img.shape)
        frames[i] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if cls.reverse:
        frames = frames[::-1].copy()
    return frames


def write_video(path: str, frames: np.ndarray, fps: float = 8.0) -> None:
    """Write RGB frames to an mp4 file with the ``mp4v`` codec.

    Args:
        path (str): Output ``.mp4`` path; parent folders are created.
        frames (np.ndarray): uint8 ``[T, H, W, 3]`` RGB frames.
        fps (float): Frame rate written in the file. Defaults to 8.
    """
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    t, h, w, _ = frames.shape
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV could not open a mp4v writer for {path}')
    try:
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


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
