# CLIP-FSAR, ssv2_small, 5-way 1-shot, CLIP RN50.
_base_ = [
    '_base_/schedules/ssv2_small.py', '_base_/datasets/ssv2_small.py',
    '_base_/models/clip_rn50.py'
]
model = dict(
    cls_head=dict(
        type='CLIPFSARHead',
        merge_before=False,
        otam=dict(type='OTAM', lbda=0.5, bidirectional=True),
        loss_video_text=dict(
            type='VideoTextLoss',
            loss_weight={{_base_.video_text_weight}})))
# CLIP-FSAR's optimizer: Adam, weight decay 1e-3, none on norm layers.
optim_wrapper = dict(
    optimizer=dict(weight_decay=1e-3),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
