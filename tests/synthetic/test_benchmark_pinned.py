# Copyright (c) m2df_mmaction contributors.
"""The few-shot benchmark's bytes are pinned.

Every published figure of the synthetic benchmark was measured on videos
that these hashes describe; a change of the generator (or of a module it
was split into) that alters a single pixel fails here. The frame hashes are
of ``render_video`` output (numpy + OpenCV drawing, portable); the mp4 hash
also depends on OpenCV's bundled encoder, so it is only checked with the
OpenCV version it was taken with.
"""
import hashlib
import os.path as osp

import cv2
import pytest

from m2df_mmaction.synthetic import motion_benchmark as S

# (split, label, trail) -> sha256 of render_video(...) frames, seed 0, video
# 0, 16 frames at 64 px (the defaults of write_benchmark).
FRAME_SHA256 = {
    ('train', 6, 0):
    '9cc21d6a639da2d1c580c603f96952e3771b2c84387b1aea436d306da6c92959',
    ('train', 6, 2):
    '8e5694f4502b82764016379ae9153f6b60b90e98ae824ecbc0db9c568cceceb5',
    ('val', 7, 0):
    '6d1dc360383f694ee9d7f6edd21e8c2207274608b5e75ce7efc2fa032ab0029e',
    ('val', 7, 2):
    'b99828531634867bddf69a6ff18a417cbcb57e3cb16e72a73c8c9712c072abe1',
    ('test', 15, 0):
    'd7a0311cc0b2b9471d559ecda6ce818ebd633f981d09cdd8e089d689da7293c9',
    ('test', 15, 2):
    '25e98a83d14209ecabb54c10ab2e6f5cff8aaf0ea4bfa86cbc21acb751a015c7',
}
# write_benchmark(out) with default parameters.
TEST_ANN_SHA256 = (
    '6ddfce2893e8f43a2e310683a875dd94a7d93344284191fb1bfa2ddf231e8ed8')
TEST_CLASSES_SHA256 = (
    'e7f420b2ce53d272e28d2add8e29ab34a43755bc6e07a07e014654ee638d8f00')
MP4_OPENCV = '4.11.0'
MP4_SHA256 = (
    '6ecb0f309efad4d1ab2506e5a01dff5587d20f858885318ce03e3481997ce7b2')


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('key', sorted(FRAME_SHA256))
def test_rendered_frames_are_pinned(key):
    split, label, trail = key
    cls = S.get_split_classes(split)[label]
    params = S.sample_video_params(S._video_rng(0, split, label, 0), cls)
    frames = S.render_video(cls, params, num_frames=16, size=64, trail=trail)
    assert _sha(frames.tobytes()) == FRAME_SHA256[key], cls.name


def test_written_benchmark_is_pinned(tmp_path):
    out = str(tmp_path / 'bench')
    # Only the test split's files are compared; a tiny train / val keeps the
    # test fast (the test split's videos do not depend on them).
    S.write_benchmark(out, videos_per_class={'train': 1, 'val': 1})
    with open(osp.join(out, 'test.txt'), 'rb') as f:
        assert _sha(f.read()) == TEST_ANN_SHA256
    with open(osp.join(out, 'test_classes.txt'), 'rb') as f:
        assert _sha(f.read()) == TEST_CLASSES_SHA256
    if cv2.__version__ != MP4_OPENCV:
        pytest.skip(f'mp4 bytes pinned with OpenCV {MP4_OPENCV}, '
                    f'have {cv2.__version__}')
    path = osp.join(out, 'videos/test/orbiting_counter_clockwise/0.mp4')
    with open(path, 'rb') as f:
        assert _sha(f.read()) == MP4_SHA256
