# Copyright (c) m2df_mmaction contributors.
"""Motion programs: the object's state as a function of normalised time.

A *program* maps ``t in [0, 1]`` and the per-video random state
(:class:`~.video_params.VideoParams`) to a state ``(cx, cy, scale, angle,
alpha)``. The hand-written programs here are the classes of the few-shot
benchmark (:mod:`.motion_benchmark`); the captioned pretraining world builds
its programs from a grammar instead (:mod:`.compositions`), with the same
conventions (directions, scales, opacities).
"""
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import numpy as np

from .video_params import VideoParams

__all__ = [
    'State', 'Program', 'MotionClass', 'DIRECTIONS', 'ramp', 'path_centre',
    'straight', 'turn', 'still_then_move', 'move_scale', 'grow', 'fade_in',
    'appear', 'rotate', 'orbit'
]

# A state is (cx, cy, scale, angle, alpha): centre in units of the frame
# size (0..1), scale relative to the per-video base size, angle in radians
# (clockwise on screen, since y points down) and opacity in [0, 1].
State = Tuple[float, float, float, float, float]
Program = Callable[[float, VideoParams], State]


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


# Unit vectors on screen (y down).
DIRECTIONS: Dict[str, Tuple[float, float]] = {
    'right': (1.0, 0.0),
    'left': (-1.0, 0.0),
    'down': (0.0, 1.0),
    'up': (0.0, -1.0),
    'down-right': (0.7071, 0.7071),
    'up-left': (-0.7071, -0.7071),
    'up-right': (0.7071, -0.7071),
    'down-left': (-0.7071, 0.7071),
}


def ramp(t: float, t0: float, t1: float) -> float:
    """Linear 0 -> 1 between ``t0`` and ``t1``, clamped."""
    return float(min(1.0, max(0.0, (t - t0) / (t1 - t0))))


def path_centre(p: VideoParams) -> Tuple[float, float]:
    """Centre of a video's path: the frame centre plus its offset."""
    return 0.5 + p.offset[0], 0.5 + p.offset[1]


def straight(d: str) -> Program:
    """Uniform motion along direction ``d``, centred on the path centre."""
    dx, dy = DIRECTIONS[d]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        s = (t - 0.5) * p.amp
        return cx + dx * s, cy + dy * s, 1.0, p.angle0, 1.0

    return prog


def turn(d1: str, d2: str) -> Program:
    """Half the time along ``d1``, then half along ``d2``."""
    (ax, ay), (bx, by) = DIRECTIONS[d1], DIRECTIONS[d2]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        h = 0.5 * p.amp
        # Path corner-to-corner, centred on the frame: start = -(a+b)h/2.
        u, v = min(t, 0.5) * 2 * h, max(t - 0.5, 0.0) * 2 * h
        x = cx - 0.5 * h * (ax + bx) + ax * u + bx * v
        y = cy - 0.5 * h * (ay + by) + ay * u + by * v
        return x, y, 1.0, p.angle0, 1.0

    return prog


def still_then_move(d: str) -> Program:
    """Still for the first half, then moving along ``d``."""
    dx, dy = DIRECTIONS[d]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        s = (ramp(t, 0.5, 1.0) - 0.5) * 0.7 * p.amp
        return cx + dx * s, cy + dy * s, 1.0, p.angle0, 1.0

    return prog


def move_scale(d: str, grow: bool) -> Program:
    """Moving along ``d`` while growing (or shrinking)."""
    dx, dy = DIRECTIONS[d]

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        s = (t - 0.5) * 0.8 * p.amp
        k = t if grow else 1.0 - t
        return cx + dx * s, cy + dy * s, 0.5 + 1.0 * k, p.angle0, 1.0

    return prog


def grow(hold: bool) -> Program:
    """Growing in place (for the first half only if ``hold``)."""

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        k = ramp(t, 0.0, 0.5) if hold else t
        return cx, cy, 0.4 + 1.4 * k, p.angle0, 1.0

    return prog


def fade_in(grow: bool) -> Program:
    """Fading in in place (while growing if ``grow``)."""

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        scale = 0.5 + 1.0 * t if grow else 1.2
        return cx, cy, scale, p.angle0, 0.05 + 0.95 * t

    return prog


def appear(t: float, p: VideoParams) -> State:
    """Invisible for the first half, then visible."""
    cx, cy = path_centre(p)
    return cx, cy, 1.2, p.angle0, 1.0 if t >= 0.5 else 0.0


def rotate(stop: bool) -> Program:
    """Rotating clockwise in place (for the first half only if ``stop``)."""

    def prog(t: float, p: VideoParams) -> State:
        cx, cy = path_centre(p)
        k = ramp(t, 0.0, 0.5) if stop else t
        return cx, cy, 1.3, p.angle0 + p.spin * k, 1.0

    return prog


def orbit(t: float, p: VideoParams) -> State:
    """Three quarters of a clockwise circle around the path centre."""
    cx, cy = path_centre(p)
    r = 0.45 * p.amp
    a = p.angle0 + 1.5 * np.pi * t  # clockwise on screen
    return cx + r * np.cos(a), cy + r * np.sin(a), 1.0, p.angle0, 1.0
