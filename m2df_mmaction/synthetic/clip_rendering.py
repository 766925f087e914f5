# Copyright (c) m2df_mmaction contributors.
"""Rendering a clip of the captioned world at the frames a model sees.

The captioned world (:mod:`.captioned_world`) renders only the frames of a
clip that the few-shot configs' ``SampleFrames(clip_len=1)`` would sample
from the full video (:func:`sample_frame_indices`), with the benchmark's
renderer, then resizes them to the model's input as MMAction2's ``Resize``
does (:func:`render_composition`).
"""
import functools
from typing import Optional, Tuple

import cv2
import numpy as np

from .compositions import Composition, composition_color, composition_state
from .rendering import render_frames
from .video_params import VideoParams

__all__ = ['sample_frame_indices', 'render_composition']


def sample_frame_indices(rng: Optional[np.random.Generator],
                         num_frames: int, num_samples: int) -> np.ndarray:
    """Frame indices as MMAction2's ``SampleFrames(clip_len=1)`` picks them.

    Args:
        rng (np.random.Generator, optional): None for test mode (the middle
            of each segment), else a random offset inside each segment
            (train mode).
        num_frames (int): Frames of the full video.
        num_samples (int): Frames to pick (``num_clips``).

    Returns:
        np.ndarray: int ``[num_samples]``.
    """
    if rng is None:
        avg = num_frames / float(num_samples)
        base = np.arange(num_samples) * avg
        return (base + avg / 2.0).astype(int)
    avg = num_frames // num_samples
    if avg < 1:
        raise ValueError(f'cannot sample {num_samples} of {num_frames} '
                         f'frames')
    return np.arange(num_samples) * avg + rng.integers(avg, size=num_samples)


def render_composition(comp: Composition,
                       params: VideoParams,
                       frame_indices: np.ndarray,
                       num_frames: int,
                       render_size: int,
                       out_size: int,
                       trail: int = 0,
                       trail_alpha: float = 0.4,
                       end_color: Optional[Tuple[int, int, int]] = None
                       ) -> np.ndarray:
    """Render frames ``frame_indices`` of a composition.

    Args:
        comp (Composition): The motion.
        params (VideoParams): Per-clip random state.
        frame_indices (np.ndarray): Indices in ``[0, num_frames)``.
        num_frames (int): Length of the full clip that the indices refer
            to.
        render_size (int): Drawing resolution.
        out_size (int): Resolution of the returned frames (bilinear
            resize, when it differs from ``render_size``).
        trail (int): Ghosts behind the object. Defaults to 0.
        trail_alpha (float): Opacity of the first ghost. Defaults to 0.4.
        end_color (tuple, optional): RGB the object turns into.

    Returns:
        np.ndarray: uint8 ``[len(frame_indices), out_size, out_size, 3]``.
    """
    dt = 1.0 / max(num_frames - 1, 1)
    times = [float(i) * dt for i in frame_indices]
    color_at = None
    if end_color is not None:
        color_at = functools.partial(composition_color, params.color,
                                     end_color)

    frames = render_frames(
        lambda t: composition_state(comp, t, params),
        params,
        times,
        size=render_size,
        dt=dt,
        trail=trail,
        trail_alpha=trail_alpha,
        color_at=color_at)
    if out_size != render_size:
        size = (out_size, out_size)
        frames = np.stack([
            cv2.resize(f, size, interpolation=cv2.INTER_LINEAR)
            for f in frames
        ])
    return frames
