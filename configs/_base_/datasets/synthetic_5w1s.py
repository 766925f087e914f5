# The built-in synthetic benchmark (write it with
# `python tools/data/make_synthetic.py --out data/synthetic`): motion classes
# in time-reversal pairs, disjoint train / val / test classes. Episodes as in
# fewshot_video.py, with the tiny CLIP's 32 px frames, fewer workers and
# episodes for 2 CPU cores.
_base_ = ['./fewshot_video.py']
data_root = 'data/synthetic'
img_size = 32

# No flip: direction is part of the class (as on SSv2).
train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=8,
        test_mode=True),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]


train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        dataset=dict(
            ann_file=f'{data_root}/train.txt',
            data_prefix=dict(video=data_root),
            pipeline=train_pipeline),
        class_names=f'{data_root}/train_classes.txt',
        num_episodes=100000))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        dataset=dict(
            ann_file=f'{data_root}/val.txt',
            data_prefix=dict(video=data_root),
            pipeline=test_pipeline),
        class_names=f'{data_root}/val_classes.txt',
        num_episodes=300))
test_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        dataset=dict(
            ann_file=f'{data_root}/test.txt',
            data_prefix=dict(video=data_root),
            pipeline=test_pipeline),
        class_names=f'{data_root}/test_classes.txt',
        num_episodes=2000))
