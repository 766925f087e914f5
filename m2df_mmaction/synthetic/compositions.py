# Copyright (c) m2df_mmaction contributors.
"""A grammar of motions: one object's path, size, opacity, rotation, speed
and colour change, and the program that renders a composition of them.

A :class:`Composition` picks one value on each *channel*:

============  ==============================================================
channel       values
============  ==============================================================
path          ``('static',)``, ``('straight', d)``, ``('turn', d1, d2)``
              (``d2`` at 90 or 180 degrees from ``d1``),
              ``('still_then_move', d)``, ``('move_then_still', d)``,
              ``('orbit', 'clockwise' | 'counter-clockwise')``; ``d`` one of
              the 8 :data:`~.programs.DIRECTIONS`
scale         ``constant``, ``grow``, ``shrink``, ``grow_then_still``,
              ``still_then_shrink``, ``still_then_grow``,
              ``shrink_then_still``
visibility    ``visible``, ``fade_in``, ``fade_out``, ``appear``, ``vanish``
rotation      ``none``, ``cw``, ``ccw``, ``cw_then_still``,
              ``still_then_ccw``, ``still_then_cw``, ``ccw_then_still``
speed         ``normal``, ``slow``, ``fast`` (of the path; ``normal`` for a
              static path)
color_change  ``None`` or the colour name the object turns into
============  ==============================================================

Every class of the few-shot benchmark is a composition too (its name is
parsed by :func:`~.captions.parse_motion_phrase`); its hand-written program
in :mod:`.programs` and :func:`composition_state` of its composition move in
the same direction, change size, opacity and angle the same way (tested).
The *motion key* of a composition is ``(path, scale, visibility,
rotation)``: speed and colour change are left out, so that a pretraining
clip that only differs from a benchmark class by speed or a colour change
counts as that class (and is excluded from the pretraining world).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .programs import DIRECTIONS, State, path_centre, ramp
from .video_params import COLOR_HUES, VideoParams

__all__ = [
    'Composition', 'MotionKey', 'PATH_KINDS', 'TURN_ANGLES', 'SCALES',
    'VISIBILITIES', 'ROTATIONS', 'SPEEDS', 'SPEED_FACTORS', 'ORBIT_SENSES',
    'opposite', 'rotate_direction', 'composition_state', 'composition_color'
]

PATH_KINDS: Tuple[str, ...] = ('static', 'straight', 'turn',
                               'still_then_move', 'move_then_still', 'orbit')
ORBIT_SENSES: Tuple[str, ...] = ('clockwise', 'counter-clockwise')
#: Angles (degrees) from the first leg of a turn to its second leg.
TURN_ANGLES: Tuple[int, ...] = (90, 180, 270)
SCALES: Tuple[str, ...] = ('constant', 'grow', 'shrink', 'grow_then_still',
                           'still_then_shrink', 'still_then_grow',
                           'shrink_then_still')
VISIBILITIES: Tuple[str, ...] = ('visible', 'fade_in', 'fade_out', 'appear',
                                 'vanish')
ROTATIONS: Tuple[str, ...] = ('none', 'cw', 'ccw', 'cw_then_still',
                              'still_then_ccw', 'still_then_cw',
                              'ccw_then_still')
SPEEDS: Tuple[str, ...] = ('normal', 'slow', 'fast')
#: Travel distance (and orbit angle) of each speed, relative to ``normal``.
SPEED_FACTORS = {'normal': 1.0, 'slow': 0.55, 'fast': 1.45}

# Size range of the scale changes, relative to the base radius (the
# benchmark's scale classes span 0.4-1.8 and 0.5-1.5).
_SCALE_LO, _SCALE_HI = 0.45, 1.65
# Size of a constant-size object: on a path, and in place (the benchmark's
# in-place classes draw it larger: 1.2-1.3).
_SCALE_MOVING, _SCALE_IN_PLACE = 1.0, 1.25

# Directions in clockwise order on screen (y down), 45 degrees apart.
_CLOCKWISE = ('right', 'down-right', 'down', 'down-left', 'left', 'up-left',
              'up', 'up-right')

_REVERSE = {
    # scale
    'constant': 'constant', 'grow': 'shrink', 'shrink': 'grow',
    'grow_then_still': 'still_then_shrink',
    'still_then_shrink': 'grow_then_still',
    'still_then_grow': 'shrink_then_still',
    'shrink_then_still': 'still_then_grow',
    # visibility
    'visible': 'visible', 'fade_in': 'fade_out', 'fade_out': 'fade_in',
    'appear': 'vanish', 'vanish': 'appear',
    # rotation
    'none': 'none', 'cw': 'ccw', 'ccw': 'cw',
    'cw_then_still': 'still_then_ccw', 'still_then_ccw': 'cw_then_still',
    'still_then_cw': 'ccw_then_still', 'ccw_then_still': 'still_then_cw',
}

#: ``(path, scale, visibility, rotation)``.
MotionKey = Tuple[Tuple[str, ...], str, str, str]


def opposite(d: str) -> str:
    """The direction at 180 degrees from ``d``."""
    return _CLOCKWISE[(_CLOCKWISE.index(d) + 4) % 8]


def rotate_direction(d: str, degrees: int) -> str:
    """The direction at ``degrees`` (a multiple of 45) clockwise from ``d``."""
    return _CLOCKWISE[(_CLOCKWISE.index(d) + degrees // 45) % 8]


@dataclass(frozen=True)
class Composition:
    """One motion of the grammar (see the module docstring).

    Attributes:
        path (tuple[str, ...]): Kind of path, then its directions.
        scale (str): Size change.
        visibility (str): Opacity change.
        rotation (str): Rotation of the object about its centre.
        speed (str): Speed of the path.
        color_change (str, optional): Colour the object turns into.

    Raises:
        ValueError: An unknown value, a turn between directions that are
            not 90 or 180 degrees apart, or a speed on a static path.
    """

    path: Tuple[str, ...] = ('static', )
    scale: str = 'constant'
    visibility: str = 'visible'
    rotation: str = 'none'
    speed: str = 'normal'
    color_change: Optional[str] = None

    def __post_init__(self) -> None:
        kind, dirs = self.path[0], self.path[1:]
        if kind not in PATH_KINDS:
            raise ValueError(f'unknown path kind {kind!r}')
        want = {'static': 0, 'turn': 2}.get(kind, 1)
        if len(dirs) != want:
            raise ValueError(f'path {self.path}: {kind!r} takes {want} '
                             f'direction(s)')
        if kind == 'orbit':
            if dirs[0] not in ORBIT_SENSES:
                raise ValueError(f'orbit sense must be one of '
                                 f'{ORBIT_SENSES}, got {dirs[0]!r}')
        elif any(d not in DIRECTIONS for d in dirs):
            raise ValueError(f'path {self.path}: unknown direction')
        if kind == 'turn' and all(
                rotate_direction(dirs[0], a) != dirs[1] for a in TURN_ANGLES):
            raise ValueError(f'turn {dirs} must turn by one of '
                             f'{TURN_ANGLES} degrees')
        for name, value, allowed in (('scale', self.scale, SCALES),
                                     ('visibility', self.visibility,
                                      VISIBILITIES),
                                     ('rotation', self.rotation, ROTATIONS),
                                     ('speed', self.speed, SPEEDS)):
            if value not in allowed:
                raise ValueError(f'{name} must be one of {allowed}, got '
                                 f'{value!r}')
        if kind == 'static' and self.speed != 'normal':
            raise ValueError('a static path has no speed')
        if self.color_change is not None and \
                self.color_change not in COLOR_HUES:
            raise ValueError(f'unknown colour {self.color_change!r}')

    @property
    def motion_key(self) -> MotionKey:
        """``(path, scale, visibility, rotation)``: the motion without its
        speed and colour change."""
        return (self.path, self.scale, self.visibility, self.rotation)

    @property
    def oriented(self) -> bool:
        """Whether the object must show its orientation (it rotates)."""
        return self.rotation != 'none'

    @property
    def moving(self) -> bool:
        """Whether the object's centre moves."""
        return self.path[0] != 'static'

    def reversed(self) -> 'Composition':
        """The composition played backwards in time.

        Returns:
            Composition: Its frames are this composition's frames in reverse
            order (up to the random phase of angles).

        Raises:
            ValueError: For a colour change (the start colour is not part of
                a composition).
        """
        if self.color_change is not None:
            raise ValueError('a colour change has no reversal composition')
        kind, dirs = self.path[0], self.path[1:]
        if kind == 'straight':
            path = ('straight', opposite(dirs[0]))
        elif kind == 'turn':
            path = ('turn', opposite(dirs[1]), opposite(dirs[0]))
        elif kind == 'still_then_move':
            path = ('move_then_still', opposite(dirs[0]))
        elif kind == 'move_then_still':
            path = ('still_then_move', opposite(dirs[0]))
        elif kind == 'orbit':
            path = ('orbit', ORBIT_SENSES[1 - ORBIT_SENSES.index(dirs[0])])
        else:
            path = self.path
        return Composition(path, _REVERSE[self.scale],
                           _REVERSE[self.visibility], _REVERSE[self.rotation],
                           self.speed)


def _path_xy(comp: Composition, t: float,
             p: VideoParams) -> Tuple[float, float]:
    cx, cy = path_centre(p)
    kind, dirs = comp.path[0], comp.path[1:]
    f = SPEED_FACTORS[comp.speed]
    if kind == 'static':
        return cx, cy
    if kind == 'orbit':
        sense = 1.0 if dirs[0] == 'clockwise' else -1.0
        a = p.angle0 + sense * 1.5 * np.pi * f * t
        r = 0.45 * p.amp
        return cx + r * np.cos(a), cy + r * np.sin(a)
    if kind == 'turn':
        (ax, ay), (bx, by) = DIRECTIONS[dirs[0]], DIRECTIONS[dirs[1]]
        h = 0.5 * p.amp * f
        u, v = min(t, 0.5) * 2 * h, max(t - 0.5, 0.0) * 2 * h
        return (cx - 0.5 * h * (ax + bx) + ax * u + bx * v,
                cy - 0.5 * h * (ay + by) + ay * u + by * v)
    dx, dy = DIRECTIONS[dirs[0]]
    if kind == 'straight':
        s = (t - 0.5) * p.amp * f
    elif kind == 'still_then_move':
        s = (ramp(t, 0.5, 1.0) - 0.5) * 0.7 * p.amp * f
    else:  # move_then_still
        s = (ramp(t, 0.0, 0.5) - 0.5) * 0.7 * p.amp * f
    return cx + dx * s, cy + dy * s


def _scale(comp: Composition, t: float) -> float:
    span = _SCALE_HI - _SCALE_LO
    k = {
        'grow': t,
        'shrink': 1.0 - t,
        'grow_then_still': ramp(t, 0.0, 0.5),
        'still_then_shrink': 1.0 - ramp(t, 0.5, 1.0),
        'still_then_grow': ramp(t, 0.5, 1.0),
        'shrink_then_still': 1.0 - ramp(t, 0.0, 0.5),
    }.get(comp.scale)
    if k is None:
        return _SCALE_MOVING if comp.moving else _SCALE_IN_PLACE
    return _SCALE_LO + span * k


def _alpha(comp: Composition, t: float) -> float:
    return {
        'visible': 1.0,
        'fade_in': 0.05 + 0.95 * t,
        'fade_out': 1.0 - 0.95 * t,
        'appear': 1.0 if t >= 0.5 else 0.0,
        'vanish': 1.0 if t <= 0.5 else 0.0,
    }[comp.visibility]


def _angle(comp: Composition, t: float, p: VideoParams) -> float:
    k = {
        'none': 0.0,
        'cw': t,
        'ccw': -t,
        'cw_then_still': ramp(t, 0.0, 0.5),
        'still_then_ccw': -ramp(t, 0.5, 1.0),
        'still_then_cw': ramp(t, 0.5, 1.0),
        'ccw_then_still': -ramp(t, 0.0, 0.5),
    }[comp.rotation]
    return p.angle0 + p.spin * k


def composition_state(comp: Composition, t: float,
                      params: VideoParams) -> State:
    """The object's state at time ``t`` of a composition.

    Args:
        comp (Composition): The motion.
        t (float): Normalised time in ``[0, 1]``.
        params (VideoParams): Per-video random state (path offset, travel
            distance ``amp``, initial angle, rotation ``spin``).

    Returns:
        tuple: ``(cx, cy, scale, angle, alpha)`` as the benchmark programs
        of :mod:`.programs` give it.
    """
    x, y = _path_xy(comp, t, params)
    return (float(x), float(y), _scale(comp, t), _angle(comp, t, params),
            _alpha(comp, t))


def composition_color(start: Tuple[int, int, int],
                      end: Optional[Tuple[int, int, int]],
                      t: float) -> np.ndarray:
    """The object's RGB colour at time ``t``: linear from ``start`` to
    ``end`` (constant ``start`` if ``end`` is None).

    Returns:
        np.ndarray: float32 ``[3]``, 0-255 scale.
    """
    c0 = np.array(start, np.float32)
    if end is None:
        return c0
    return (1.0 - t) * c0 + t * np.array(end, np.float32)
