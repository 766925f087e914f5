# CLIP-M2DF, Kinetics-100, 5-way 1-shot, CLIP ViT-B/16: the official
# recipe (docs/recipes.md) with the intended-behaviour fixes of
# _base_/models/m2df_head.py.
_base_ = [
    '_base_/schedules/m2df.py', '_base_/datasets/kinetics100.py',
    '_base_/pipelines/m2df.py', '_base_/models/clip_vit-b16.py',
    '_base_/models/m2df_head.py'
]
# One-direction OTAM: TRAIN.SINGLE_DIRECT of CLIP-MDMF's K100 1-shot yaml
# (its 5-shot yaml and the other datasets align both ways).
model = dict(
    cls_head=dict(
        _base_.m2df_head,
        otam=dict(type='OTAM', lbda=0.5, bidirectional=False)))
# Random horizontal flip, as the official loader.
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline)))
