# CLIP-M2DF, UCF101, 5-way 5-shot, CLIP RN50: the official
# recipe (docs/recipes.md) with the intended-behaviour fixes of
# _base_/models/m2df_head.py.
# The official numerics: configs/official/m2df_ucf101_5w5s.py.
_base_ = [
    '_base_/schedules/m2df.py', '_base_/datasets/ucf101.py',
    '_base_/pipelines/m2df.py', '_base_/models/clip_rn50.py',
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
