# Copyright (c) m2df_mmaction contributors.
"""Frame samplers of the official few-shot codebases.

MMAction2's ``SampleFrames(clip_len=1, num_clips=8)`` already is CLIP-FSAR's
sampler for SSv2, UCF101 and HMDB51 in training (one random frame per
segment of ``n // 8`` frames). The two samplers here are the ones it cannot
express:

- :class:`LinspaceSampleFrames`, the TRX-style sampler of CLIP-M2DF's data
  loader (docs/method.md §1.2): ``T`` frames evenly spaced between a start
  and an end that are jittered by a few frames in training;
- :class:`IntervalSampleFrames`, CLIP-FSAR's interval-based sampler of
  Kinetics-100 (its ``SAMPLING_RATE`` 35 at ``TARGET_FPS`` 12): ``T`` frames
  evenly spaced over a window of ``T * interval * fps / target_fps`` frames
  (the whole clip when shorter), at a random place in training and in the
  middle at test time.

Both draw from numpy's global generator, which :class:`EpisodicDataset`
seeds per episode, so the frames are a function of ``(seed, episode)``.
"""
from typing import Optional

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

__all__ = ['LinspaceSampleFrames', 'IntervalSampleFrames']


def _pack(results: dict, frame_inds: np.ndarray, num_clips: int) -> dict:
    """Write the keys ``SampleFrames`` writes (one frame per clip)."""
    results['frame_inds'] = (np.asarray(frame_inds, dtype=np.int64) +
                             results.get('start_index', 0)).astype(np.int32)
    results['clip_len'] = 1
    results['frame_interval'] = None
    results['num_clips'] = num_clips
    return results


@TRANSFORMS.register_module()
class LinspaceSampleFrames(BaseTransform):
    """``T`` evenly spaced frames between a jittered start and end (TRX).

    With ``n`` frames and ``p = int(min(max_jitter, (n - T) / 2))``:

    - training: ``start ~ U{0..p}``, ``end ~ U{n-1-p..n-1}`` (``0`` and
      ``n - 1`` when ``p < 1``);
    - test: ``start = 1``, ``end = n - 2``;
    - if ``end - start < T``: ``start, end = 0, n - 1``;
    - frames ``int(linspace(start, end, T))``; all frames when ``n == T``.

    Required keys:

    - total_frames
    - start_index (optional)

    Added keys:

    - frame_inds
    - clip_len
    - frame_interval
    - num_clips

    Args:
        num_clips (int): Frames to sample ``T``. Defaults to 8.
        max_jitter (int): Largest jitter ``p`` of start and end in
            training. Defaults to 5 (official).
        test_mode (bool): Deterministic test sampling. Defaults to False.
    """

    def __init__(self,
                 num_clips: int = 8,
                 max_jitter: int = 5,
                 test_mode: bool = False) -> None:
        if num_clips < 1:
            raise ValueError(f'num_clips must be >= 1, got {num_clips}')
        self.num_clips = num_clips
        self.max_jitter = max_jitter
        self.test_mode = test_mode

    def sample(self, num_frames: int) -> np.ndarray:
        """Frame indices ``[T]`` for a clip of ``num_frames`` frames."""
        count = self.num_clips
        if num_frames == count:
            return np.arange(count)
        if self.test_mode:
            start, end = 1, num_frames - 2
        else:
            pad = int(min(self.max_jitter, (num_frames - count) / 2))
            if pad < 1:
                start, end = 0, num_frames - 1
            else:
                start = np.random.randint(0, pad + 1)
                end = np.random.randint(num_frames - 1 - pad, num_frames)
        if end - start < count:
            start, end = 0, num_frames - 1
        return np.linspace(start, end, count).astype(np.int64)

    def transform(self, results: dict) -> dict:
        """Sample the frame indices of one clip.

        Args:
            results (dict): The pipeline's dict.

        Returns:
            dict: With ``frame_inds`` ``[T]``.
        """
        frames = self.sample(int(results['total_frames']))
        return _pack(results, frames, self.num_clips)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_clips={self.num_clips}, '
                f'max_jitter={self.max_jitter}, test_mode={self.test_mode})')


@TRANSFORMS.register_module()
class IntervalSampleFrames(BaseTransform):
    """``T`` frames evenly spaced over a window of ``T * interval`` frames
    at ``target_fps`` (CLIP-FSAR's interval-based sampling).

    With ``n`` frames at ``fps``: the window is
    ``L = T * interval * fps / target_fps`` frames, or ``n // T * T`` when
    that is longer than the clip; ``m = max(n - L + 1, 0)``; the start is
    ``U(0, m)`` in training and ``m / 2`` at test time; the frames are
    ``linspace(start, start + L - interval, T)``, clipped to ``[0, n - 1]``
    and truncated to integers.

    Required keys:

    - total_frames
    - avg_fps (set by ``DecordInit``; else ``fps`` must be given)
    - start_index (optional)

    Added keys:

    - frame_inds
    - clip_len
    - frame_interval
    - num_clips

    Args:
        num_clips (int): Frames to sample ``T``. Defaults to 8.
        interval (int): Frame interval at ``target_fps``. Defaults to 35
            (CLIP-FSAR Kinetics-100 ``SAMPLING_RATE``).
        target_fps (float): Frame rate the interval refers to. Defaults to
            12 (``DATA.TARGET_FPS``).
        fps (float, optional): Frame rate to assume when the results carry
            no ``avg_fps`` (e.g. frame folders). Defaults to None (then
            missing ``avg_fps`` is an error).
        test_mode (bool): Deterministic test sampling. Defaults to False.
    """

    def __init__(self,
                 num_clips: int = 8,
                 interval: int = 35,
                 target_fps: float = 12.0,
                 fps: Optional[float] = None,
                 test_mode: bool = False) -> None:
        if num_clips < 1 or interval < 1 or target_fps <= 0:
            raise ValueError('num_clips and interval must be >= 1 and '
                             f'target_fps > 0, got {num_clips}, {interval}, '
                             f'{target_fps}')
        self.num_clips = num_clips
        self.interval = interval
        self.target_fps = target_fps
        self.fps = fps
        self.test_mode = test_mode

    def sample(self, num_frames: int, fps: float) -> np.ndarray:
        """Frame indices ``[T]`` of a clip of ``num_frames`` at ``fps``."""
        count = self.num_clips
        length = count * self.interval * fps / self.target_fps
        if length > num_frames:
            length = num_frames // count * count
        max_start = max(num_frames - length + 1, 0)
        start = max_start / 2 if self.test_mode else np.random.uniform(
            0, max_start)
        index = np.linspace(start, start + length - self.interval, count)
        return np.clip(index, 0, num_frames - 1).astype(np.int64)

    def transform(self, results: dict) -> dict:
        """Sample the frame indices of one clip.

        Args:
            results (dict): The pipeline's dict.

        Returns:
            dict: With ``frame_inds`` ``[T]``.
        """
        fps = results.get('avg_fps') or self.fps
        if not fps:
            source = results.get('filename') or results.get('frame_dir')
            raise KeyError(
                f'{type(self).__name__} needs the frame rate of {source}: '
                "the results have no 'avg_fps' (DecordInit sets it) and no "
                '`fps` was given.')
        frames = self.sample(int(results['total_frames']), float(fps))
        return _pack(results, frames, self.num_clips)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_clips={self.num_clips}, '
                f'interval={self.interval}, target_fps={self.target_fps}, '
                f'fps={self.fps}, test_mode={self.test_mode})')
