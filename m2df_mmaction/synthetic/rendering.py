# Copyright (c) m2df_mmaction contributors.
"""Render object states to RGB frames (numpy + OpenCV, anti-aliased).

One foreground object (a polygon of :data:`~.video_params.SHAPES`) is
alpha-blended over a static background (colour and clutter blobs), then
Gaussian pixel noise is added. Optional *trails* draw faint ghosts of the
object at earlier program times, so that one frame shows the direction of
motion.
"""
from typing import Callable, Optional, Sequence

import cv2
import numpy as np

from .programs import MotionClass, State
from .video_params import SHAPES, VideoParams

__all__ = ['object_states', 'object_mask', 'background', 'render_video',
           'render_frames']


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


def object_mask(size: int, state: Sequence[float], shape: int,
                radius: float) -> np.ndarray:
    """Anti-aliased coverage mask of the object.

    Args:
        size (int): Frame height = width ``H``.
        state (Sequence[float]): ``(cx, cy, scale, angle, alpha)``.
        shape (int): Index into :data:`SHAPES`.
        radius (float): Base radius in frame units.

    Returns:
        np.ndarray: float32 ``[H, H]`` in ``[0, 1]``.
    """
    cx, cy, scale, angle, _ = state
    poly = SHAPES[shape]
    c, s = np.cos(angle), np.sin(angle)
    rot = poly @ np.array([[c, s], [-s, c]])
    pts = (rot * radius * scale + np.array([cx, cy])) * size
    mask = np.zeros((size, size), np.uint8)
    shift = 4
    cv2.fillPoly(mask, [np.round(pts * (1 << shift)).astype(np.int32)], 255,
                 cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def background(params: VideoParams, size: int) -> np.ndarray:
    """The static background: its colour and the clutter blobs.

    Args:
        params (VideoParams): Per-video random state.
        size (int): Frame height = width ``H``.

    Returns:
        np.ndarray: float32 ``[H, H, 3]`` RGB on the 0-255 scale.
    """
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = np.array(params.bg, np.float32)
    for x, y, r, col in params.clutter:
        centre = (int(round(x * size * 16)), int(round(y * size * 16)))
        cv2.circle(canvas, centre, int(round(r * size * 16)),
                   tuple(float(v) for v in col), -1, cv2.LINE_AA, 4)
    return canvas


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
            (:func:`~.video_params.sample_video_params`).
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
    canvas = background(params, size)
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
            m = object_mask(size, st, params.shape, params.radius)[..., None]
            img = img * (1.0 - a * m) + color * (a * m)
        if params.noise > 0:
            img = img + noise_rng.normal(0.0, params.noise, img.shape)
        frames[i] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if cls.reverse:
        frames = frames[::-1].copy()
    return frames


def render_frames(state_at: Callable[[float], State],
                  params: VideoParams,
                  times: Sequence[float],
                  *,
                  size: int = 64,
                  dt: float = 1.0 / 15,
                  trail: int = 0,
                  trail_alpha: float = 0.4,
                  color_at: Optional[Callable[[float], np.ndarray]] = None
                  ) -> np.ndarray:
    """Render the frames of a forward-time program at given times.

    The same drawing as :func:`render_video` (background, ghosts, object,
    noise), for any program and any set of times, e.g. only the frames a
    model samples, and with an optional colour that changes over time.

    Args:
        state_at (Callable): ``state_at(t) -> (cx, cy, scale, angle,
            alpha)`` for ``t`` in ``[0, 1]``.
        params (VideoParams): Per-video random state (shape, radius,
            background, clutter, noise; ``params.color`` unless
            ``color_at``).
        times (Sequence[float]): ``T`` program times in ``[0, 1]``.
        size (int): Frame height = width ``H``. Defaults to 64.
        dt (float): Time step between the ghosts of a trail (that of the
            full-length video). Defaults to 1 / 15 (16 frames).
        trail (int): Ghosts behind the object. Defaults to 0.
        trail_alpha (float): Opacity of the first ghost. Defaults to 0.4.
        color_at (Callable, optional): ``color_at(t) -> float32 [3]`` RGB.
            Defaults to the constant ``params.color``.

    Returns:
        np.ndarray: uint8 ``[T, H, H, 3]`` RGB frames.
    """
    canvas = background(params, size)
    const = np.array(params.color, np.float32)
    noise_rng = np.random.default_rng(params.noise_seed)
    frames = np.empty((len(times), size, size, 3), np.uint8)
    for i, t in enumerate(times):
        t = float(t)
        img = canvas.copy()
        layers = []
        for k in range(trail, 0, -1):
            tk = max(0.0, t - k * dt)
            if tk == t:
                continue
            st = state_at(tk)
            layers.append((st, tk, trail_alpha * (0.5**(k - 1)) * st[4]))
        st = state_at(t)
        layers.append((st, t, float(st[4])))
        for st, tk, a in layers:
            if a <= 0:
                continue
            color = const if color_at is None else color_at(tk)
            m = object_mask(size, st, params.shape, params.radius)[..., None]
            img = img * (1.0 - a * m) + color * (a * m)
        if params.noise > 0:
            # float32 draws (twice as fast as render_video's float64 ones)
            img = img + params.noise * noise_rng.standard_normal(
                img.shape, dtype=np.float32)
        frames[i] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return frames
