# CLIP-M2DF, ssv2_full, 5-way 1-shot, CLIP ViT-B-16.
_base_ = [
    '_base_/schedules/ssv2_full.py', '_base_/datasets/ssv2_full.py',
    '_base_/models/clip_vit-b16.py', '_base_/models/m2df_head.py'
]
model = dict(cls_head={{_base_.m2df_head}})
