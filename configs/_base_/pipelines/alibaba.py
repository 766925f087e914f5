# HyRSM's, HyRSM++'s and MoLo's frames and augmentation: the loader of
# CLIP-FSAR (the same datasets/base/ssv2_few_shot.py; _base_/pipelines/
# clip_fsar.py; docs/recipes.md), with what their yamls set differently.
# SSv2, UCF101, HMDB51 (SAMPLING_RATE 50 > 40): one random frame in each of
# 8 equal segments (SampleFrames); Kinetics-100 (SAMPLING_RATE 35,
# TARGET_FPS 12): interval sampling. Supports: short side 256
# (TRAIN_JITTER_SCALES [256, 256]), random 224 crop, no flip.
# Training queries (AUGMENTATION.SUPPORT_QUERY_DIFF: true in every yaml of
# the three methods): flip, crop and colour jitter with finetune.yaml's
# strengths (_transform_query); random erasing is off everywhere
# (RANDOM_ERASING.ENABLE false in base.yaml, whatever NO_RANDOM_ERASE says).
# Test: the centre frame of each segment (departure, as for CLIP-FSAR: the
# official test draws frames at random) and a centre crop after short side
# 256 (TEST_SCALE 256, TEST_CENTER_CROP).
alibaba_num_frames = 8
_segments = dict(
    type='SampleFrames', clip_len=1, frame_interval=1,
    num_clips=alibaba_num_frames)
_k100 = dict(
    type='IntervalSampleFrames', num_clips=alibaba_num_frames, interval=35,
    target_fps=12)
_support = [
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
_query = [
    dict(type='VideoOrFramesDecode'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='VideoColorJitter', brightness=0.5, contrast=0.5,
         saturation=0.5, hue=0.25, grayscale=0.3),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
_test = [
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
alibaba_train_pipeline = [dict(type='VideoOrFramesInit'), _segments, *_support]
alibaba_query_pipeline = [dict(type='VideoOrFramesInit'), _segments, *_query]
alibaba_test_pipeline = [
    dict(type='VideoOrFramesInit'), dict(_segments, test_mode=True), *_test
]
alibaba_k100_train_pipeline = [
    dict(type='VideoOrFramesInit'), _k100, *_support
]
alibaba_k100_query_pipeline = [dict(type='VideoOrFramesInit'), _k100, *_query]
alibaba_k100_test_pipeline = [
    dict(type='VideoOrFramesInit'), dict(_k100, test_mode=True), *_test
]
