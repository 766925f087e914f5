# CLIP-M2DF, ucf101, 5-way 1-shot, CLIP RN50.
_base_ = [
    '_base_/schedules/ucf101.py', '_base_/datasets/ucf101.py',
    '_base_/models/clip_rn50.py', '_base_/models/m2df_head.py'
]
model = dict(cls_head={{_base_.m2df_head}})
