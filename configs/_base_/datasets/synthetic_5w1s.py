# The built-in synthetic benchmark (write it with
# `python tools/data/make_synthetic.py --out data/synthetic`): motion classes
# in time-reversal pairs, disjoint train / val / test classes.
data_root = 'data/synthetic'
img_size = 32
num_frames = 8

train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1,
        num_clips=num_frames),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    # No flip: direction is part of the class (as on SSv2).
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_frames,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]


train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=f'{data_root}/train.txt',
            data_prefix=dict(video=data_root),
            pipeline=train_pipeline,
            test_mode=False),
        class_names=f'{data_root}/train_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=5,
        num_episodes=100000,
        episodes_seed=0))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=f'{data_root}/val.txt',
            data_prefix=dict(video=data_root),
            pipeline=test_pipeline,
            test_mode=True),
        class_names=f'{data_root}/val_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=1,
        num_episodes=300,
        episodes_seed=1,
        test_mode=True))
test_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=f'{data_root}/test.txt',
            data_prefix=dict(video=data_root),
            pipeline=test_pipeline,
            test_mode=True),
        class_names=f'{data_root}/test_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=1,
        num_episodes=2000,
        episodes_seed=2,
        test_mode=True))

val_evaluator = dict(type='EpisodicAccuracy')
test_evaluator = val_evaluator
