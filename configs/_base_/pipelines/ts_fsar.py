# TS-FSAR's frames and augmentation (yaozhang0417/TS-FSAR
# datasets/video_few_shot.py, datasets/base_dataset.py; docs/recipes.md):
# CLIP-FSAR's loader with SAMPLING_RATE 50 on every dataset, Kinetics-100
# included: one random frame in each of 8 equal segments (> 40 selects
# segments in _interval_based_sampling). Supports and queries alike (no
# SUPPORT_QUERY_DIFF in its yamls): short side 256 (TRAIN_JITTER_SCALES
# [256, 256]), random 224 crop; no colour jitter (COLOR_AUG false), no
# random erasing (NO_RANDOM_ERASE true); a horizontal flip where the yaml
# sets AUGMENTATION.RANDOM_FLIP (Kinetics-100, HMDB51, UCF101; not SSv2).
# Test: as ./alibaba.py (centre frames of the segments: departure, the
# official test draws them at random; short side 256, centre 224 crop).
_base_ = ['./alibaba.py']
tsfsar_train_pipeline = _base_.alibaba_train_pipeline
tsfsar_flip_train_pipeline = [
    *_base_.alibaba_train_pipeline[:3],
    dict(type='Flip', flip_ratio=0.5),
    *_base_.alibaba_train_pipeline[3:]
]
tsfsar_test_pipeline = _base_.alibaba_test_pipeline
