# Copyright (c) m2df_mmaction contributors.
"""Clip-consistent colour jitter (CLIP-FSAR's Kinetics-100 query
augmentation)."""
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

__all__ = ['VideoColorJitter']

# ITU-R 601-2 luma, as the official ``rgb_to_grayscale``.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
Range = Union[float, Tuple[float, float]]


def _range(value: Range, center: float, name: str,
           bound: Tuple[float, float]) -> Tuple[float, float]:
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f'{name} must be non-negative, got {value}')
        low, high = center - float(value), center + float(value)
        return max(low, bound[0]), min(high, bound[1])
    low, high = (float(v) for v in value)
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f'{name} range must lie in {bound}, got {value}')
    return low, high


def _gray(clip: np.ndarray) -> np.ndarray:
    """``[T, H, W, 1]`` luma of an RGB clip ``[T, H, W, 3]``."""
    return clip @ _LUMA[:, None]


def _blend(clip: np.ndarray, other, ratio: float) -> np.ndarray:
    return np.clip(ratio * clip + (1 - ratio) * other, 0.0, 1.0)


def _adjust_hue(clip: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue of an RGB clip in ``[0, 1]`` by ``shift`` turns."""
    out = np.empty_like(clip)
    for t, frame in enumerate(clip):
        hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)  # H in [0, 360)
        hsv[..., 0] = np.mod(hsv[..., 0] + 360.0 * shift, 360.0)
        out[t] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(out, 0.0, 1.0)


@TRANSFORMS.register_module()
class VideoColorJitter(BaseTransform):
    """Colour jitter with one set of factors per clip, in a random order.

    The augmentation CLIP-FSAR applies to Kinetics-100 training queries
    (its ``ColorJitter`` with ``consistent=True, shuffle=True,
    gray_first=True``): per clip, a brightness, contrast, saturation and
    hue factor are drawn, the four adjustments are applied in a random
    order, and with probability ``grayscale`` the clip is first turned to
    grey. Contrast blends each frame with the mean luma of that frame.
    MMAction2's ``ColorJitter`` cannot express this (its order is fixed at
    construction, it has no greyscale, and its hue offset is scaled for a
    0-255 hue on OpenCV's 0-180 scale).

    Works on frames in ``[0, 255]`` (uint8 or float) and returns float32
    frames in ``[0, 255]``, so nothing is lost to rounding before the data
    preprocessor normalises them.

    Required keys:

    - imgs

    Modified keys:

    - imgs

    Args:
        brightness (float | tuple): Factor range ``[1 - b, 1 + b]`` (or the
            range). Defaults to 0.5 (official).
        contrast (float | tuple): Defaults to 0.5.
        saturation (float | tuple): Defaults to 0.5.
        hue (float | tuple): Shift range in turns ``[-h, h]``, within
            ``[-0.5, 0.5]``. Defaults to 0.25.
        grayscale (float): Probability of turning the clip grey first.
            Defaults to 0.3.
    """

    def __init__(self,
                 brightness: Range = 0.5,
                 contrast: Range = 0.5,
                 saturation: Range = 0.5,
                 hue: Range = 0.25,
                 grayscale: float = 0.3) -> None:
        self.brightness = _range(brightness, 1.0, 'brightness',
                                 (0.0, float('inf')))
        self.contrast = _range(contrast, 1.0, 'contrast', (0.0, float('inf')))
        self.saturation = _range(saturation, 1.0, 'saturation',
                                 (0.0, float('inf')))
        self.hue = _range(hue, 0.0, 'hue', (-0.5, 0.5))
        if not 0.0 <= grayscale <= 1.0:
            raise ValueError(f'grayscale must be a probability, got '
                             f'{grayscale}')
        self.grayscale = grayscale

    def _draw(self) -> Tuple[Sequence, bool]:
        """Factors in the official order, then shuffle, then greyscale."""
        ops = [('brightness', np.random.uniform(*self.brightness)),
               ('contrast', np.random.uniform(*self.contrast)),
               ('saturation', np.random.uniform(*self.saturation)),
               ('hue', np.random.uniform(*self.hue))]
        order = np.random.permutation(len(ops))
        gray = np.random.uniform() < self.grayscale
        return [ops[i] for i in order], gray

    def transform(self, results: dict) -> dict:
        """Jitter the clip.

        Args:
            results (dict): With ``imgs``, a list of ``[H, W, 3]`` RGB frames.

        Returns:
            dict: ``imgs`` as float32 frames in ``[0, 255]``.
        """
        clip = np.stack(results['imgs']).astype(np.float32) / 255.0
        ops, gray = self._draw()
        if gray:
            clip = np.repeat(_gray(clip), 3, axis=-1)
        for name, factor in ops:
            if name == 'brightness':
                clip = _blend(clip, 0.0, factor)
            elif name == 'contrast':
                mean = _gray(clip).mean(axis=(1, 2, 3), keepdims=True)
                clip = _blend(clip, mean, factor)
            elif name == 'saturation':
                clip = _blend(clip, _gray(clip), factor)
            else:
                clip = _adjust_hue(clip, factor)
        results['imgs'] = list(clip * 255.0)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue}, grayscale={self.grayscale})')
