# Few-shot episodes over an MMAction2 VideoDataset: 5-way, 5 queries per
# class in training and 1 in test, 10,000 fixed test episodes and 1,000
# fixed validation episodes. Each dataset file (ssv2_full.py,
# ssv2_small.py, kinetics100.py, ucf101.py, hmdb51.py) sets its paths. The
# pipelines here are generic defaults (8 TSN-style frames, 224 px, no
# flip); the benchmark configs set their method's (_base_/pipelines/).
data_root = 'data/DATASET'
ann_root = f'{data_root}/annotations'
video_root = f'{data_root}/videos'
num_frames = 8

train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1,
        num_clips=num_frames),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_frames,
        test_mode=True),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=f'{ann_root}/train.txt',
            data_prefix=dict(video=video_root),
            pipeline=train_pipeline),
        class_names=f'{ann_root}/train_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=5,
        num_episodes=1000000,
        episodes_seed=0))
val_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=f'{ann_root}/val.txt',
            data_prefix=dict(video=video_root),
            pipeline=test_pipeline,
            test_mode=True),
        class_names=f'{ann_root}/val_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=1,
        num_episodes=1000,
        episodes_seed=1,
        test_mode=True))
# The field's protocol: 10,000 fixed test episodes, 1 query per class.
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=f'{ann_root}/test.txt',
            data_prefix=dict(video=video_root),
            pipeline=test_pipeline,
            test_mode=True),
        class_names=f'{ann_root}/test_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=1,
        num_episodes=10000,
        episodes_seed=2,
        test_mode=True))

val_evaluator = dict(type='EpisodicAccuracy')
test_evaluator = val_evaluator
