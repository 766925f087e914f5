# CLIP-M2DF's frames (its TRX-style loader; docs/method.md §1.2): 8 frames
# evenly spaced between a start and an end jittered by up to 5 frames in
# training (frames 1 .. n-2 at test time); short side 256, random 224 crop
# and a random horizontal flip in training (the official loader flips on
# every dataset, SSv2 included), centre crop at test time.
m2df_num_frames = 8
m2df_train_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='LinspaceSampleFrames', num_clips=m2df_num_frames, max_jitter=5),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# Fix for direction-sensitive classes (SSv2: "pushing from left to right"):
# no flip. Used by the default SSv2 configs; configs/official/ flips.
m2df_noflip_train_pipeline = [
    t for t in m2df_train_pipeline if t['type'] != 'Flip'
]
m2df_test_pipeline = [
    dict(type='VideoOrFramesInit'),
    dict(
        type='LinspaceSampleFrames', num_clips=m2df_num_frames,
        test_mode=True),
    dict(type='VideoOrFramesDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
