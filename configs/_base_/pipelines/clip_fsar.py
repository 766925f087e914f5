# CLIP-FSAR's frames and augmentation (docs/method.md §2.3; docs/recipes.md).
# SSv2, UCF101, HMDB51 (SAMPLING_RATE 50 > 40): one random frame in each of
# 8 equal segments = MMAction2's SampleFrames(clip_len=1, num_clips=8).
# Short side 256, random 224 crop, no flip (no released yaml sets
# RANDOM_FLIP), no colour jitter or random erasing.
# Test: the centre frame of each segment and a centre crop (the official
# test draws frames at random too: departure, so that the 10,000-episode
# accuracy is not itself random and features can be cached).
clip_fsar_num_frames = 8
clip_fsar_train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1,
         num_clips=clip_fsar_num_frames),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
clip_fsar_test_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1,
         num_clips=clip_fsar_num_frames, test_mode=True),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# Kinetics-100 (SAMPLING_RATE 35 at TARGET_FPS 12): interval-based sampling,
# random start in training, the middle window at test time.
k100_sampler = dict(
    type='IntervalSampleFrames',
    num_clips=clip_fsar_num_frames,
    interval=35,
    target_fps=12)
clip_fsar_k100_train_pipeline = [
    dict(type='VideoOrFramesInit'), k100_sampler, *clip_fsar_train_pipeline[2:]
]
clip_fsar_k100_test_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(k100_sampler, test_mode=True), *clip_fsar_test_pipeline[2:]
]
# ... and its training queries get their own augmentation
# (AUGMENTATION.SUPPORT_QUERY_DIFF): flip, crop, colour jitter with the
# finetune.yaml strengths (brightness/contrast/saturation 0.5, hue 0.25,
# grayscale 0.3, one draw per clip, shuffled order, grey first); its random
# erasing is disabled (RANDOM_ERASING.ENABLE false).
clip_fsar_k100_query_pipeline = [
    dict(type='VideoOrFramesInit'), k100_sampler,
    dict(type='VideoOrFramesDecode'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='VideoColorJitter', brightness=0.5, contrast=0.5,
         saturation=0.5, hue=0.25, grayscale=0.3),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
