# Copyright (c) m2df_mmaction contributors.
"""VideoOrFramesInit / VideoOrFramesDecode: one pipeline reads a video or
its extracted frames, and sees the same frames (up to the JPEG loss)."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import (DecordDecode, DecordInit,
                                          RawFrameDecode, Resize)
from mmaction.registry import DATASETS, TRANSFORMS

from m2df_mmaction.datasets.transforms import (VideoOrFramesDecode,
                                               VideoOrFramesInit)
from m2df_mmaction.datasets.transforms.loading import FRAMES_META

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CODECS = {  # the codecs of the benchmarks' videos
    'mp4': ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '12'],
    'webm': ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-deadline',
             'realtime', '-cpu-used', '8'],
    'avi': ['-c:v', 'mpeg4', '-q:v', '3'],
}
SHORT_SIDE = 64  # stored frames; the pipeline's Resize(scale=(-1, 64))


def load_tool(name):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, osp.join(ROOT, 'tools', 'data', f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


extract = load_tool('extract_frames')


def write_clip(path, num_frames=30, fps=10, seed=0, size=(120, 80)):
    """A textured clip whose frames differ a lot from their neighbours."""
    import imageio_ffmpeg
    w, h = size
    rng = np.random.default_rng(seed)
    gray = cv2.resize(rng.uniform(0, 255, (h // 6, w // 2)), (w * 3, h),
                      interpolation=cv2.INTER_CUBIC)  # little chroma: JPEG
    big = np.clip(gray[..., None] * [1.0, 0.9, 0.8], 0, 255).astype(np.uint8)
    frames = [np.roll(big, -9 * t, axis=1)[:, :w] for t in range(num_frames)]
    os.makedirs(osp.dirname(path), exist_ok=True)
    ext = osp.splitext(path)[1][1:]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-f',
           'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}', '-r', str(fps),
           '-i', '-', *CODECS[ext], path]
    subprocess.run(cmd, input=np.stack(frames).tobytes(), check=True)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255**2 / max(mse, 1e-10))


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    """One clip per codec, and its frames at JPEG quality 100."""
    root = tmp_path_factory.mktemp('loading')
    videos, frames = root / 'videos', root / 'frames'
    names = [f'class_a/clip.{ext}' for ext in CODECS]
    for i, name in enumerate(names):
        write_clip(str(videos / name), seed=i)
    settings = extract.ExtractSettings(short_side=SHORT_SIDE,
                                       jpeg_quality=100)
    results = extract.extract_videos(names, str(videos), str(frames),
                                     settings, workers=1, progress=False)
    assert [r.status for r in results] == ['done'] * 3
    return str(videos), str(frames), names


def load(path, frame_inds):
    results = dict(filename=path, start_index=0, modality='RGB')
    results = VideoOrFramesInit()(results)
    results['frame_inds'] = np.asarray(frame_inds)
    return Resize(scale=(-1, SHORT_SIDE))(VideoOrFramesDecode()(results))


@pytest.mark.parametrize('codec', list(CODECS))
def test_same_frames_as_decoding_the_video(clips, codec):
    """Frame i of the folder is frame i of the video, resized exactly as
    the pipeline resizes it: only the JPEG loss differs."""
    videos, frames, names = clips
    name = f'class_a/clip.{codec}'
    stock = DecordInit()(dict(filename=osp.join(videos, name),
                              start_index=0, modality='RGB'))
    num = stock['total_frames']
    assert num == 30
    every = np.arange(num)
    from_video = load(osp.join(videos, name), every)
    from_frames = load(osp.join(frames, name), every)
    for key in ('total_frames', 'avg_fps', 'img_shape'):
        assert from_frames[key] == from_video[key], key
    # what the decoder returned: the stored size, not the source's
    assert from_frames['original_shape'] == (64, 96)
    assert from_video['original_shape'] == (80, 120)
    assert from_video['avg_fps'] == stock['avg_fps'] == 10
    assert 'video_reader' in from_video and 'frame_dir' in from_frames
    assert from_frames['img_shape'] == (64, 96)
    video, image = np.stack(from_video['imgs']), np.stack(from_frames['imgs'])
    for i in range(num):
        same = psnr(video[i], image[i])
        assert same > 40, (i, same)  # JPEG at quality 100
        for j in (i - 1, i + 1):  # and not a neighbouring frame
            if 0 <= j < num:
                assert psnr(video[j], image[i]) < same - 15


@pytest.mark.parametrize('codec', list(CODECS))
def test_decoding_in_order_is_indexed_decoding(clips, codec):
    """The extractor decodes frames in order; DecordDecode seeks to them:
    both give the very same pixels."""
    import decord
    path = osp.join(clips[0], f'class_a/clip.{codec}')
    in_order = decord.VideoReader(path, num_threads=1)
    in_order = np.stack([in_order.next().asnumpy() for _ in range(30)])
    indexed = decord.VideoReader(path, num_threads=1)
    for i in (29, 0, 17, 3, 4, 28):  # out of order: seeks
        np.testing.assert_array_equal(
            indexed.get_batch([i]).asnumpy()[0], in_order[i])


def test_video_path_is_decord(clips):
    """On a video file the wrappers are DecordInit/DecordDecode (same keys,
    and on a healthy clip the same pixels: in-order decoding changes only
    damaged clips, tests/datasets/test_damaged_video.py)."""
    videos, _, names = clips
    path = osp.join(videos, names[0])
    inds = np.array([3, 3, 17, 29])
    ours = VideoOrFramesDecode()(dict(
        VideoOrFramesInit()(dict(filename=path)), frame_inds=inds))
    stock = DecordDecode()(dict(DecordInit()(dict(filename=path)),
                                frame_inds=inds))
    assert ours.keys() == stock.keys()
    np.testing.assert_array_equal(np.stack(ours['imgs']),
                                  np.stack(stock['imgs']))
    assert repr(VideoOrFramesInit(num_threads=2)).endswith('num_threads=2)')
    assert TRANSFORMS.get('VideoOrFramesInit') is VideoOrFramesInit
    assert TRANSFORMS.get('VideoOrFramesDecode') is VideoOrFramesDecode


def test_rawframe_dataset_folders(clips, tmp_path):
    """RawframeDataset results (frame_dir, start_index 1) read the same
    folders; a TRX folder without frames.json is left to RawFrameDecode."""
    _, frames, names = clips
    folder = osp.join(frames, names[0])
    inds = np.array([1, 5, 30])  # RawframeDataset counts from 1
    results = dict(frame_dir=folder, total_frames=30, start_index=1,
                   filename_tmpl='img_{:05}.jpg', modality='RGB',
                   frame_inds=inds)
    ours = VideoOrFramesDecode()(VideoOrFramesInit()(dict(results)))
    stock = RawFrameDecode()(dict(results))
    np.testing.assert_array_equal(np.stack(ours['imgs']),
                                  np.stack(stock['imgs']))
    assert ours['avg_fps'] == 10
    trx = tmp_path / 'trx'
    os.makedirs(trx)
    for i in range(1, 4):
        cv2.imwrite(str(trx / f'frame{i}.jpg'), np.zeros((8, 8, 3)))
    plain = dict(frame_dir=str(trx), total_frames=3, start_index=1,
                 filename_tmpl='frame{}.jpg', modality='RGB',
                 frame_inds=np.array([1, 3]))
    out = VideoOrFramesDecode()(VideoOrFramesInit()(dict(plain)))
    assert 'avg_fps' not in out and len(out['imgs']) == 2


def test_unfinished_folder_is_an_error(tmp_path):
    folder = tmp_path / 'clip.mp4'
    os.makedirs(folder)  # e.g. frames copied without their frames.json
    with pytest.raises(FileNotFoundError, match=f'{folder}.*{FRAMES_META}'):
        VideoOrFramesInit()(dict(filename=str(folder), start_index=0))
    with pytest.raises(Exception):  # a missing video: decord's own error
        VideoOrFramesInit()(dict(filename=str(tmp_path / 'none.mp4')))


def test_frame_step(clips, tmp_path):
    """--frame-step 2 keeps source frames 0, 2, 4, ... at half the fps."""
    videos, _, names = clips
    settings = extract.ExtractSettings(short_side=SHORT_SIDE,
                                       jpeg_quality=100, frame_step=2)
    out = str(tmp_path / 'step2')
    extract.extract_videos(names[:1], videos, out, settings, workers=1,
                           progress=False)
    path = osp.join(out, names[0])
    with open(osp.join(path, FRAMES_META)) as f:
        meta = json.load(f)
    assert (meta['total_frames'], meta['avg_fps']) == (15, 5.0)
    assert meta['source_frames'] == 30
    video = load(osp.join(videos, names[0]), [0, 2, 28])['imgs']
    image = load(path, [0, 1, 14])['imgs']
    assert all(psnr(v, i) > 40 for v, i in zip(video, image))


def episodic(root, names, sampler):
    """A training EpisodicDataset over VideoDataset (2-way 1-shot, 1
    query) with the usual random augmentations."""
    ann = osp.join(root, 'ann.txt')
    with open(ann, 'w') as f:
        for i in range(4):  # 2 classes x 2 videos, videos reused
            f.write(f'{names[i % len(names)]} {i % 2}\n')
    pipeline = [
        dict(type='VideoOrFramesInit'), sampler,
        dict(type='VideoOrFramesDecode'),
        dict(type='Resize', scale=(-1, SHORT_SIDE)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(48, 48), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs')
    ]
    return DATASETS.build(
        dict(type='EpisodicDataset',
             dataset=dict(type='VideoDataset', ann_file=ann,
                          data_prefix=dict(video=root), pipeline=pipeline),
             num_ways=2, num_shots=1, num_queries=1, num_episodes=6,
             episodes_seed=3))


@pytest.mark.parametrize('sampler', [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='IntervalSampleFrames', num_clips=4, interval=2,
         target_fps=10),  # reads avg_fps
])
def test_episodes_are_a_function_of_seed_and_episode(clips, tmp_path,
                                                     sampler):
    """On frames, episode i is the same in any order, in a fresh dataset
    and through DataLoader workers; and it is the video episode with the
    same frames, crops and flips (only the JPEG loss differs)."""
    videos, frames, names = clips
    on_frames = episodic(frames, names, sampler)
    on_videos = episodic(videos, names, sampler)
    first = [on_frames[i]['inputs'] for i in (0, 1, 2)]
    again = episodic(frames, names, sampler)
    for i in (2, 0, 1):
        assert torch.equal(again[i]['inputs'], first[i])
    for i in range(3):
        video = on_videos[i]['inputs'].numpy()
        assert video.shape == first[i].shape
        assert psnr(video, first[i].numpy()) > 38, i  # same augmentation
    assert not torch.equal(first[0], first[1])
    loader = torch.utils.data.DataLoader(
        again, batch_size=1, num_workers=2, collate_fn=lambda b: b[0])
    for i, item in zip(range(3), loader):
        assert torch.equal(item['inputs'], first[i])
