# HyRSM on the built-in synthetic benchmark, tiny CLIP, CPU (see README).
# The official 1-shot head (CNN_HyRSM_1shot): hybrid relation module, Bi-MHM,
# frame-level auxiliary CE over the 24 training classes with the SSv2 weight
# 0.6 (USE_CLASSIFICATION_VALUE), PE A=10, B=1 (no POSITION_A/B).
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
# A learnable logit scale from 10, as the OTAM demo: it lets the randomly
# initialised encoder learn much faster; HyRSM itself has none (scale 1).
model = dict(
    text_encoder=None,
    cls_head=dict(
        type='HyRSMHead',
        num_classes=24,  # data/synthetic/train_classes.txt
        loss_frame_cls=dict(type='CrossEntropyLoss', loss_weight=0.6),
        init_scale=10.0,
        learnable_scale=True))
