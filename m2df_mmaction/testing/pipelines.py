# Copyright (c) m2df_mmaction contributors.
"""A small deterministic video pipeline for tests of datasets and loops."""
from typing import List

__all__ = ['test_video_pipeline']


def test_video_pipeline(num_frames: int = 4) -> List[dict]:
    """MMAction2's stock decode pipeline, ``num_frames`` single frames
    sampled in test mode (deterministic), packed as ``[T, C, H, W]``.

    Args:
        num_frames (int): Frames per video (``num_clips`` of
            ``SampleFrames``). Defaults to 4.

    Returns:
        list[dict]: Transform configs, a new list each call.
    """
    return [
        dict(type='DecordInit'),
        dict(
            type='SampleFrames',
            clip_len=1,
            frame_interval=1,
            num_clips=num_frames,
            test_mode=True),
        dict(type='DecordDecode'),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs')
    ]


# not a test: pytest would collect a module-level ``test_*`` function
test_video_pipeline.__test__ = False
