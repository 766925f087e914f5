# Copyright (c) m2df_mmaction contributors.
"""The test pipeline as the inference API runs it on video files."""
import numpy as np
import pytest
from mmengine.config import Config

from m2df_mmaction.apis import ClipLoader, clip_key, find_test_pipeline
from m2df_mmaction.synthetic import write_video

TAIL = [
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]


def test_rawframe_and_multi_crop_pipelines_become_video_ones():
    loader = ClipLoader([
        dict(type='SampleFrames', clip_len=1, num_clips=8, test_mode=True),
        dict(type='RawFrameDecode'),
        dict(type='ThreeCrop', crop_size=32), *TAIL
    ])
    types = [t['type'] for t in loader.pipeline_cfg]
    assert types[:4] == ['DecordInit', 'SampleFrames', 'DecordDecode',
                         'CenterCrop']
    with pytest.raises(ValueError, match='no decoding transform'):
        ClipLoader([dict(type='SampleFrames', num_clips=8), *TAIL])


@pytest.mark.parametrize('sampler', [
    dict(type='SampleFrames', clip_len=1, num_clips=8, test_mode=True),
    dict(type='LinspaceSampleFrames', num_clips=8, test_mode=True)
])
def test_too_short_means_the_pipeline_would_repeat_frames(sampler, tmp_path):
    loader = ClipLoader([dict(type='DecordInit'), sampler,
                         dict(type='DecordDecode'), *TAIL])
    frames = np.random.default_rng(0).integers(
        0, 255, (12, 32, 32, 3), dtype=np.uint8)
    for count in (7, 8):
        write_video(str(tmp_path / f'{count}.mp4'), frames[:count])
    assert 'too short: 7 frames' in loader.problem(str(tmp_path / '7.mp4'))
    assert loader.problem(str(tmp_path / '8.mp4')) is None
    item = loader.load(str(tmp_path / '8.mp4'), 'clip')
    assert tuple(item['inputs'].shape) == (8, 3, 32, 32)
    again = loader.load(str(tmp_path / '8.mp4'), 'clip')['inputs']
    assert clip_key(item['inputs']) == clip_key(again)
    assert clip_key(item['inputs']) != clip_key(again.flip(0))


def test_find_test_pipeline():
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        type='EpisodicDataset', dataset=dict(pipeline=TAIL)))))
    assert find_test_pipeline(cfg) == TAIL
    with pytest.raises(KeyError, match='no test pipeline'):
        find_test_pipeline(Config(dict(model=dict())))
