# TRX, HMDB51, 5-way 1-shot, ImageNet ResNet-50: the official recipe
# (tobyperrett/trx run.py and README; docs/recipes.md).
_base_ = [
    '_base_/schedules/trx.py',
    '_base_/datasets/hmdb51.py',
    '_base_/pipelines/trx.py',
    '_base_/models/resnet50_in1k.py'
]
model = dict(
    data_preprocessor=_base_.trx_preprocessor,
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
