# Copyright (c) m2df_mmaction contributors.
"""A damaged clip (bytes lost in the middle of an MPEG-4 stream): the
pipelines decode it the same whatever the access pattern and the process
history, and strict verification names it (issue 19)."""
import os.path as osp
import sys

import decord
import numpy as np
import pytest
from mmaction.datasets.transforms import DecordDecode, DecordInit

from m2df_mmaction.datasets.transforms import (VideoOrFramesDecode,
                                               VideoOrFramesInit)
from m2df_mmaction.datasets.transforms.loading import decode_in_order
from m2df_mmaction.datasets.video_check import PROBLEMS, check_video

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from damaged_video import write_damaged_clip  # noqa: E402


@pytest.fixture(scope='module')
def damaged(tmp_path_factory):
    decord.logging.set_level(decord.logging.QUIET)
    return write_damaged_clip(str(tmp_path_factory.mktemp('d') / 'bad.avi'))


def in_order(path):
    """Every frame, decoded one after the other from the start."""
    reader = decord.VideoReader(path, num_threads=1)
    return np.stack([reader.next().asnumpy() for _ in range(len(reader))])


def pipeline(path, inds, decode):
    init = VideoOrFramesInit() if decode is not DecordDecode else \
        DecordInit()
    results = init(dict(filename=path, start_index=0, modality='RGB'))
    results['frame_inds'] = np.asarray(inds)
    return np.stack(decode(results)['imgs'])


def test_clip_reproduces_the_problem(damaged):
    """Seeking (MMAction2's DecordDecode) gives other pixels than decoding
    in order after the damage, and they depend on what was decoded
    before in the process."""
    truth = in_order(damaged)
    num = len(truth)
    seeked = [pipeline(damaged, [i], DecordDecode()) for i in range(num)]
    wrong = [i for i in range(num) if not np.array_equal(seeked[i][0],
                                                         truth[i])]
    assert len(wrong) > 10, wrong
    assert np.abs(seeked[wrong[0]].astype(int) - truth[wrong[0]]).max() > 50


def test_sequential_decoding_is_a_pure_function(damaged, tmp_path):
    """VideoOrFramesDecode gives the in-order frames for any indices, in
    any order, with repeats, whatever the process decoded before."""
    truth = in_order(damaged)
    num = len(truth)
    rng = np.random.default_rng(0)
    decode = VideoOrFramesDecode()
    for trial in range(6):
        inds = rng.integers(0, num, 8)
        if trial % 2:  # disturb the process: seek around the damage
            pipeline(damaged, rng.integers(0, num, 8), DecordDecode())
        np.testing.assert_array_equal(pipeline(damaged, inds, decode),
                                      truth[inds])
    reader = decord.VideoReader(damaged, num_threads=1)
    reader.get_batch([num - 1, 5])  # a used reader is rewound first
    frames = decode_in_order(reader, [num - 1, 0, num - 1])
    np.testing.assert_array_equal(np.stack(frames), truth[[num - 1, 0,
                                                           num - 1]])
    with pytest.raises(IndexError, match=f'out of the {num} frames'):
        decode_in_order(reader, [num])
    with pytest.raises(ValueError, match="mode must be 'sequential'"):
        VideoOrFramesDecode(mode='fast')
    # MMAction2's seeking modes stay available
    assert VideoOrFramesDecode('accurate').decord_decode.mode == 'accurate'


def test_verification_names_the_clip(damaged, tmp_path):
    problem = check_video(damaged, 8, 8)
    assert problem.kind == 'unstable_decode' and problem.kind in PROBLEMS
    assert 'decode to other pixels when seeked to than in order' in \
        problem.detail
    assert 'transcode_videos.py' in problem.detail
    assert '--allow-missing' in problem.detail
    # the undamaged clip it was made from passes
    healthy = write_damaged_clip(str(tmp_path / 'ok.avi'), damaged_bytes=0)
    assert check_video(healthy, 8, 8) is None
    truth = in_order(healthy)
    inds = [len(truth) - 1, 40, 7, 7]
    np.testing.assert_array_equal(
        pipeline(healthy, inds, VideoOrFramesDecode()),
        pipeline(healthy, inds, DecordDecode()))  # as stock, when healthy


def test_no_decord_error_line_on_unreadable_files(tmp_path, capfd):
    text = tmp_path / 'notes.mp4'
    text.write_text('not a video\n')
    problem = check_video(str(text), 8, 8)
    assert problem.kind == 'unreadable' and 'notes.mp4' in problem.detail
    print('still here', file=sys.stderr)  # stderr is back
    err = capfd.readouterr().err
    assert 'ERROR opening' not in err and 'still here' in err
