# CLIP-M2DF, HMDB51, 5-way 5-shot, CLIP ViT-B/16: the official
# recipe (docs/recipes.md) with the intended-behaviour fixes of
# _base_/models/m2df_head.py.
_base_ = [
    '_base_/schedules/m2df.py', '_base_/datasets/hmdb51.py',
    '_base_/pipelines/m2df.py', '_base_/models/clip_vit-b16.py',
    '_base_/models/m2df_head.py'
]
model = dict(cls_head=_base_.m2df_head)
# Random horizontal flip, as the official loader.
# The official run trains and tests with the same number of shots.
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_train_pipeline),
        num_shots=5))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline),
        num_shots=5))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline),
        num_shots=5))
