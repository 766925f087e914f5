# Extracted frames instead of video files: HMDB51 (ARN split) as an example.
# Expects TRX-style frame folders <root>/<class>/<video>/img_00001.jpg ...
# Prepare with
#   python tools/data/build_fewshot_ann.py --dataset hmdb51 --rawframes \
#       --video-root /path/to/frames --filename-tmpl 'img_{:05}.jpg'
# which writes data/hmdb51/annotations/{split}.txt as
# "<frame dir> <total frames> <label>" (RawframeDataset format), relative to
# data/hmdb51/rawframes (a symlink to --video-root). Use it in a config with
#   _base_ = ['_base_/datasets/rawframes_example.py', ...]
data_root = 'data/hmdb51'
ann_root = f'{data_root}/annotations'
frame_root = f'{data_root}/rawframes'
filename_tmpl = 'img_{:05}.jpg'  # the same as --filename-tmpl
start_index = 1  # the same as --start-index
num_frames = 8

train_pipeline = [
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1,
        num_clips=num_frames),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),  # drop for SSv2 (direction matters)
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_frames,
        test_mode=True),
    dict(type='RawFrameDecode'),
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
            type='RawframeDataset',
            ann_file=f'{ann_root}/train.txt',
            data_prefix=dict(img=frame_root),
            filename_tmpl=filename_tmpl,
            start_index=start_index,
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
            type='RawframeDataset',
            ann_file=f'{ann_root}/val.txt',
            data_prefix=dict(img=frame_root),
            filename_tmpl=filename_tmpl,
            start_index=start_index,
            pipeline=test_pipeline,
            test_mode=True),
        class_names=f'{ann_root}/val_classes.txt',
        num_ways=5,
        num_shots=1,
        num_queries=1,
        num_episodes=1000,
        episodes_seed=1,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='EpisodicDataset',
        dataset=dict(
            type='RawframeDataset',
            ann_file=f'{ann_root}/test.txt',
            data_prefix=dict(img=frame_root),
            filename_tmpl=filename_tmpl,
            start_index=start_index,
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
