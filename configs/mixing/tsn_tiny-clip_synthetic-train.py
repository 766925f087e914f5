# Mixing 1: OpenCLIPVisual inside MMAction2's stock Recognizer2D + TSNHead,
# ordinary supervised classification of the synthetic TRAIN classes (no
# episodes). The benchmark has no held-out videos of its training classes,
# so validation and test reuse train.txt with the test pipeline: this config
# shows the parts fit together, it is not a generalisation benchmark.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/clip_preprocessor.py'
]
data_root = 'data/synthetic'
img_size = 32
num_frames = 8
num_classes = 24  # data/synthetic/train_classes.txt

model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='OpenCLIPVisual', arch='TinyCLIP-ViT-32', pretrained=None),
    cls_head=dict(
        type='TSNHead',
        num_classes=num_classes,
        in_channels=64,  # TinyCLIP-ViT-32's embed_dim
        spatial_type=None,  # OpenCLIPVisual returns [N*T, D], not maps
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.0,
        average_clips='prob'),
    data_preprocessor={{_base_.data_preprocessor}})

train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='SampleFrames', clip_len=1, frame_interval=1,
        num_clips=num_frames),
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
        num_clips=num_frames,
        test_mode=True),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/train.txt',
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/train.txt',
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.01),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=3)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(
        by_epoch=True, interval=1, save_best='acc/top1', rule='greater'))
log_processor = dict(by_epoch=True)
