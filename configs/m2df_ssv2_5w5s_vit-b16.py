# CLIP-M2DF, SSv2-Full, 5-way 5-shot, CLIP ViT-B/16: the official
# recipe (docs/recipes.md) with the intended-behaviour fixes of
# _base_/models/m2df_head.py.
_base_ = [
    '_base_/schedules/m2df.py', '_base_/datasets/ssv2_full.py',
    '_base_/pipelines/m2df.py', '_base_/models/clip_vit-b16.py',
    '_base_/models/m2df_head.py'
]
model = dict(cls_head=_base_.m2df_head)
# No flip: SSv2 classes are direction-sensitive (a fix; the official loader
# flips, configs/official/).
# The official run trains and tests with the same number of shots.
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_noflip_train_pipeline),
        num_shots=5))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline),
        num_shots=5))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline),
        num_shots=5))
