# Copyright (c) m2df_mmaction contributors.
"""Per-video random state: the object's shape and colour, path offsets,
background, clutter and noise, and the names the captions give them."""
from dataclasses import dataclass
from typing import Dict, Protocol, Tuple

import cv2
import numpy as np

__all__ = [
    'VideoParams', 'SHAPES', 'ORIENTED_SHAPES', 'SHAPE_NAMES', 'COLOR_HUES',
    'sample_video_params', 'named_color'
]


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


SHAPES: Tuple[np.ndarray, ...] = (
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
#: Shapes whose rotation can be seen.
ORIENTED_SHAPES: Tuple[int, ...] = (4, 5, 6)
#: The caption word of each shape of :data:`SHAPES`.
SHAPE_NAMES: Tuple[str, ...] = ('disk', 'square', 'triangle', 'diamond',
                                'corner', 'arrow', 'flag')

#: Colour names and their OpenCV hue (0-180) centres. Each name covers
#: ``centre +- 15``, so the six names tile the hue circle and a uniform name
#: with a uniform hue inside it is a uniform hue, as in the benchmark.
COLOR_HUES: Dict[str, int] = {
    'red': 0,
    'yellow': 30,
    'green': 60,
    'cyan': 90,
    'blue': 120,
    'magenta': 150,
}


class _HasOrientation(Protocol):
    oriented: bool


def _hsv_to_rgb(h: int, s: int, v: int) -> Tuple[int, int, int]:
    hsv = np.array([[[h, s, v]]], np.uint8)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def _bright_color(rng: np.random.Generator) -> Tuple[int, int, int]:
    hsv = np.array([[[rng.integers(0, 180), rng.integers(160, 256),
                      rng.integers(200, 256)]]], np.uint8)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def named_color(rng: np.random.Generator,
                name: str) -> Tuple[int, int, int]:
    """A bright RGB colour of the hue range called ``name``.

    Saturation and value are drawn as for the benchmark's colours.

    Args:
        rng (np.random.Generator): Source of randomness.
        name (str): A key of :data:`COLOR_HUES`.

    Returns:
        tuple[int, int, int]: RGB colour.
    """
    if name not in COLOR_HUES:
        raise KeyError(f'unknown colour name {name!r}; known: '
                       f'{", ".join(COLOR_HUES)}')
    hue = (COLOR_HUES[name] + int(rng.integers(-15, 15))) % 180
    return _hsv_to_rgb(hue, int(rng.integers(160, 256)),
                       int(rng.integers(200, 256)))


def sample_video_params(rng: np.random.Generator,
                        cls: _HasOrientation,
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
        shape = int(rng.choice(ORIENTED_SHAPES))
    else:
        shape = int(rng.integers(len(SHAPES)))
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
