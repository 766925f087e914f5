# CLIP-M2DF, SSv2-Full, 5-way 1-shot, CLIP RN50: the official
# recipe (docs/recipes.md) with the intended-behaviour fixes of
# _base_/models/m2df_head.py.
# The official numerics: configs/official/m2df_ssv2_5w1s.py.
_base_ = [
    '_base_/schedules/m2df.py', '_base_/datasets/ssv2_full.py',
    '_base_/pipelines/m2df.py', '_base_/models/clip_rn50.py',
    '_base_/models/m2df_head.py'
]
model = dict(cls_head=_base_.m2df_head)
# No flip: SSv2 classes are direction-sensitive (a fix; the official loader
# flips, configs/official/).
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_noflip_train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline)))
