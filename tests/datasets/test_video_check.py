# Copyright (c) m2df_mmaction contributors.
"""m2df_mmaction.datasets.video_check on good and broken inputs."""
import os

import cv2
import numpy as np
import pytest

from m2df_mmaction.datasets.video_check import (PROBLEMS, VideoProblem,
                                                check_frame_dir, check_video,
                                                count_frames, sample_indices)
from m2df_mmaction.synthetic import write_video


def video(path, frames=12):
    write_video(str(path), np.random.default_rng(0).integers(
        0, 255, (frames, 32, 32, 3), dtype=np.uint8))
    return str(path)


def test_sample_indices():
    assert sample_indices(80, 8) == [5, 15, 25, 35, 45, 55, 65, 75, 79]
    assert sample_indices(3, 8) == [0, 1, 2]  # short: clipped, distinct


def test_check_video(tmp_path):
    assert check_video(video(tmp_path / 'ok.mp4'), 8, 8) is None
    assert check_video(str(tmp_path / 'none.mp4'), 8, 8) == ('missing', '')
    (tmp_path / 'empty.mp4').touch()
    assert check_video(str(tmp_path / 'empty.mp4'), 8, 8).kind == 'empty'
    (tmp_path / 'junk.mp4').write_bytes(np.random.default_rng(0).bytes(999))
    problem = check_video(str(tmp_path / 'junk.mp4'), 8, 8)
    assert isinstance(problem, VideoProblem) and problem.kind == 'unreadable'
    assert problem.detail  # decord's message
    short = check_video(video(tmp_path / 'short.mp4', 5), 8, 8)
    assert short == ('too_short', '5 frames < 8')
    assert {p.kind for p in (problem, short)} <= set(PROBLEMS)


def frame_dir(path, num=9, tmpl='img_{:05}.jpg', start=1):
    os.makedirs(path)
    image = np.full((16, 16, 3), 100, np.uint8)
    for i in range(start, start + num):
        cv2.imwrite(str(path / tmpl.format(i)), image)
    return str(path)


def test_check_frame_dir(tmp_path):
    ok = frame_dir(tmp_path / 'ok')
    assert count_frames(ok, 'img_{:05}.jpg') == 9
    assert check_frame_dir(ok, 8) is None
    assert check_frame_dir(ok, 8, num_frames=9, decode='all') is None
    assert check_frame_dir(ok, 10).kind == 'too_short'
    assert check_frame_dir(ok, 8, num_frames=10) == ('too_short',
                                                     '9 frames, expected 10')
    assert check_frame_dir(ok, 8, num_frames=8).kind == 'unreadable'
    assert check_frame_dir(str(tmp_path / 'no'), 1).kind == 'missing'
    os.makedirs(tmp_path / 'empty')
    assert check_frame_dir(str(tmp_path / 'empty'), 1).kind == 'empty'
    zero = frame_dir(tmp_path / 'zero', start=0)
    problem = check_frame_dir(zero, 8)
    assert problem.kind == 'unreadable' and 'img_00009.jpg' in problem.detail
    assert check_frame_dir(zero, 8, start_index=0) is None
    with pytest.raises(ValueError, match='decode'):
        check_frame_dir(ok, 8, decode='some')


@pytest.mark.parametrize('broken, caught_by', [
    (9, 'middle'),  # the middle frame (of 16): every level catches it
    (1, 'sampled'),  # the first frame: not the middle one
    (3, 'all'),  # a frame no test-time sample reads
])
def test_decode_levels(tmp_path, broken, caught_by):
    levels = ('middle', 'sampled', 'all')
    folder = frame_dir(tmp_path / 'f', num=16)
    with open(os.path.join(folder, f'img_{broken:05}.jpg'), 'wb') as f:
        f.write(b'' if broken == 1 else b'not a jpeg')
    for level in levels:
        problem = check_frame_dir(folder, 1, decode=level)
        if levels.index(level) >= levels.index(caught_by):
            assert problem == ('undecodable',
                               f'img_{broken:05}.jpg does not decode')
        else:
            assert problem is None
