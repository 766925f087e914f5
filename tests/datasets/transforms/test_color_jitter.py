# Copyright (c) m2df_mmaction contributors.
"""VideoColorJitter: one draw per clip, the official adjustments."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS


def _clip(seed=0, frames=4):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            for _ in range(frames)]


def test_identity_settings_keep_the_clip():
    jitter = TRANSFORMS.build(
        dict(type='VideoColorJitter', brightness=0, contrast=0,
             saturation=0, hue=0, grayscale=0))
    clip = _clip()
    out = jitter(dict(imgs=[f.copy() for f in clip]))['imgs']
    assert out[0].dtype == np.float32
    np.testing.assert_allclose(np.stack(out), np.stack(clip), atol=1e-3)


def test_factors_are_shared_by_all_frames():
    """A clip of identical frames stays a clip of identical frames."""
    jitter = TRANSFORMS.build(dict(type='VideoColorJitter'))
    frame = _clip(1, 1)[0]
    np.random.seed(0)
    for _ in range(20):
        out = jitter(dict(imgs=[frame.copy() for _ in range(5)]))['imgs']
        for other in out[1:]:
            np.testing.assert_array_equal(other, out[0])
        assert 0 <= np.min(out) and np.max(out) <= 255


def test_brightness_and_grayscale_match_their_definitions():
    clip = _clip(2)
    only_brightness = TRANSFORMS.build(
        dict(type='VideoColorJitter', brightness=(0.5, 0.5), contrast=0,
             saturation=0, hue=0, grayscale=0))
    out = np.stack(only_brightness(dict(imgs=clip))['imgs'])
    np.testing.assert_allclose(out, 0.5 * np.stack(clip), atol=1e-3)
    always_gray = TRANSFORMS.build(
        dict(type='VideoColorJitter', brightness=0, contrast=0,
             saturation=0, hue=0, grayscale=1.0))
    out = np.stack(always_gray(dict(imgs=clip))['imgs'])
    luma = np.stack(clip).astype(np.float32) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(out, np.repeat(luma[..., None], 3, -1),
                               atol=1e-2)


def test_contrast_blends_each_frame_with_its_mean_luma():
    clip = _clip(3)
    half = TRANSFORMS.build(
        dict(type='VideoColorJitter', brightness=0, contrast=(0.5, 0.5),
             saturation=0, hue=0, grayscale=0))
    out = np.stack(half(dict(imgs=clip))['imgs'])
    x = np.stack(clip).astype(np.float32) / 255
    mean = (x @ np.array([0.299, 0.587, 0.114])).mean(axis=(1, 2))
    expect = np.clip(0.5 * x + 0.5 * mean[:, None, None, None], 0, 1) * 255
    np.testing.assert_allclose(out, expect, atol=1e-2)


def test_hue_half_turn_twice_is_identity_and_bad_ranges_fail():
    clip = _clip(4)
    half_turn = TRANSFORMS.build(
        dict(type='VideoColorJitter', brightness=0, contrast=0,
             saturation=0, hue=(0.5, 0.5), grayscale=0))
    once = half_turn(dict(imgs=clip))['imgs']
    twice = half_turn(dict(imgs=once))['imgs']
    np.testing.assert_allclose(np.stack(twice), np.stack(clip), atol=0.5)
    assert np.abs(np.stack(once) - np.stack(clip)).max() > 50
    with pytest.raises(ValueError, match='hue'):
        TRANSFORMS.build(dict(type='VideoColorJitter', hue=(0.2, 0.7)))
    with pytest.raises(ValueError, match='grayscale'):
        TRANSFORMS.build(dict(type='VideoColorJitter', grayscale=1.5))
