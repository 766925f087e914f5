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
alibaba_train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1,
         num_clips=alibaba_num_frames),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
alibaba_query_pipeline = [
    *alibaba_train_pipeline[:3],
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='VideoColorJitter', brightness=0.5, contrast=0.5,
         saturation=0.5, hue=0.25, grayscale=0.3),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
alibaba_test_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(alibaba_train_pipeline[1], test_mode=True),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# Kinetics-100: the same with interval sampling in place of the segments
alibaba_k100_sampler = dict(
    type='IntervalSampleFrames', num_clips=alibaba_num_frames, interval=35,
    target_fps=12)
alibaba_k100_train_pipeline = [
    alibaba_train_pipeline[0], alibaba_k100_sampler,
    *alibaba_train_pipeline[2:]
]
alibaba_k100_query_pipeline = [
    alibaba_query_pipeline[0], alibaba_k100_sampler,
    *alibaba_query_pipeline[2:]
]
alibaba_k100_test_pipeline = [
    alibaba_test_pipeline[0],
    dict(alibaba_k100_sampler, test_mode=True), *alibaba_test_pipeline[2:]
]
