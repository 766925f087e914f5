# Extracted frames instead of video files: HMDB51 (ARN split) as an example.
# Expects TRX-style frame folders <root>/<class>/<video>/img_00001.jpg ...
# Prepare with
#   python tools/data/build_fewshot_ann.py --dataset hmdb51 --rawframes \
#       --video-root /path/to/frames --filename-tmpl 'img_{:05}.jpg'
# which writes data/hmdb51/annotations/{split}.txt as
# "<frame dir> <total frames> <label>" (RawframeDataset format), relative to
# data/hmdb51/rawframes (a symlink to --video-root). Use it in a config with
#   _base_ = ['_base_/datasets/rawframes_example.py', ...]
_base_ = ['./fewshot_video.py']
data_root = 'data/hmdb51'
ann_root = f'{data_root}/annotations'
frame_root = f'{data_root}/rawframes'
filename_tmpl = 'img_{:05}.jpg'  # the same as --filename-tmpl
start_index = 1  # the same as --start-index

# VideoOrFramesInit/Decode: RawFrameDecode here, DecordInit/Decode on a
# video file (the same pipelines as every other dataset config).
train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1,
        num_clips=8),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),  # drop for SSv2 (direction matters)
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
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type='RawframeDataset',
            ann_file=f'{ann_root}/train.txt',
            data_prefix=dict(_delete_=True, img=frame_root),
            filename_tmpl=filename_tmpl,
            start_index=start_index,
            pipeline=train_pipeline),
        class_names=f'{ann_root}/train_classes.txt'))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type='RawframeDataset',
            ann_file=f'{ann_root}/val.txt',
            data_prefix=dict(_delete_=True, img=frame_root),
            filename_tmpl=filename_tmpl,
            start_index=start_index,
            pipeline=test_pipeline),
        class_names=f'{ann_root}/val_classes.txt'))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type='RawframeDataset',
            ann_file=f'{ann_root}/test.txt',
            data_prefix=dict(_delete_=True, img=frame_root),
            filename_tmpl=filename_tmpl,
            start_index=start_index,
            pipeline=test_pipeline),
        class_names=f'{ann_root}/test_classes.txt'))
