# TRX, SSv2-Full, 5-way 1-shot, CLIP RN50: the official ResNet-50 recipe on
# CLIP (no CLIP recipe was released) (tobyperrett/trx run.py and README;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/trx.py',
    '_base_/datasets/ssv2_full.py',
    '_base_/pipelines/trx.py',
    '_base_/models/clip_rn50.py'
]
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=_base_.head)
# --shot 1: trains and tests 1-shot; --query_per_class 5 / _test 1
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_train_pipeline),
        num_shots=1))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline),
        num_shots=1))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.m2df_test_pipeline),
        num_shots=1))
