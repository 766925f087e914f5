# Copyright (c) m2df_mmaction contributors.
"""The official frame samplers, checked against their definitions."""
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS


def _sample(cfg, total_frames, **results):
    sampler = TRANSFORMS.build(cfg)
    out = sampler(dict(total_frames=total_frames, start_index=0, **results))
    assert out['clip_len'] == 1 and out['num_clips'] == len(out['frame_inds'])
    return out['frame_inds']


def test_linspace_test_mode_skips_first_and_last_frame():
    frames = _sample(dict(type='LinspaceSampleFrames', test_mode=True), 50)
    assert frames.tolist() == [
        int(f) for f in np.linspace(1, 48, 8)]  # start 1, end n - 2
    # Too short for start 1 / end n-2: the whole clip.
    assert _sample(dict(type='LinspaceSampleFrames', test_mode=True),
                   9).tolist() == [int(f) for f in np.linspace(0, 8, 8)]
    # Exactly T frames: every frame.
    assert _sample(dict(type='LinspaceSampleFrames', test_mode=True),
                   8).tolist() == list(range(8))


def test_linspace_training_jitter_stays_within_five_frames():
    np.random.seed(0)
    starts, ends = set(), set()
    for _ in range(400):
        frames = _sample(dict(type='LinspaceSampleFrames'), 60)
        starts.add(int(frames[0]))
        ends.add(int(frames[-1]))
        assert np.all(np.diff(frames) > 0)
    # p = min(5, (60 - 8) / 2) = 5: start in 0..5, end in 54..59.
    assert starts == set(range(6))
    assert ends == set(range(54, 60))
    # (n - T) / 2 < 1: no jitter at all.
    np.random.seed(1)
    assert _sample(dict(type='LinspaceSampleFrames'),
                   9).tolist() == [int(f) for f in np.linspace(0, 8, 8)]


def test_interval_sampling_official_window():
    # Kinetics-like: 300 frames at 30 fps. Window 8*35*30/12 = 700 > 300,
    # so 296 frames; start = (300 - 296 + 1) / 2 = 2.5 at test time.
    frames = _sample(
        dict(type='IntervalSampleFrames', test_mode=True), 300, avg_fps=30)
    expect = np.clip(np.linspace(2.5, 2.5 + 296 - 35, 8), 0, 299)
    assert frames.tolist() == expect.astype(int).tolist()
    # A long clip: the window is 8*35 frames at 12 fps.
    frames = _sample(
        dict(type='IntervalSampleFrames', test_mode=True), 1000, avg_fps=12)
    start = (1000 - 280 + 1) / 2
    assert frames.tolist() == np.linspace(start, start + 280 - 35,
                                          8).astype(int).tolist()
    np.random.seed(0)
    firsts = {
        int(_sample(dict(type='IntervalSampleFrames'), 1000, avg_fps=12)[0])
        for _ in range(200)
    }
    assert min(firsts) >= 0 and max(firsts) <= 721 and len(firsts) > 100


def test_interval_sampling_needs_a_frame_rate():
    with pytest.raises(KeyError, match='frame rate of clip.mp4'):
        _sample(dict(type='IntervalSampleFrames'), 100, filename='clip.mp4')
    frames = _sample(dict(type='IntervalSampleFrames', fps=12,
                          test_mode=True), 1000)
    assert len(frames) == 8


def test_samplers_follow_the_episode_seed():
    """Same numpy seed -> same frames (EpisodicDataset seeds per episode)."""
    for cfg in (dict(type='LinspaceSampleFrames'),
                dict(type='IntervalSampleFrames')):
        np.random.seed(3)
        a = _sample(cfg, 400, avg_fps=25)
        np.random.seed(3)
        b = _sample(cfg, 400, avg_fps=25)
        assert np.array_equal(a, b)
