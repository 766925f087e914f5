# TRX, SSv2-Small, 5-way 5-shot, ImageNet ResNet-50: the official recipe
# (tobyperrett/trx run.py and README; docs/recipes.md).
_base_ = [
    '_base_/schedules/trx.py',
    '_base_/datasets/ssv2_small.py',
    '_base_/pipelines/trx.py',
    '_base_/models/resnet50_in1k.py'
]
model = dict(
    data_preprocessor=_base_.trx_preprocessor,
    cls_head=_base_.head)
# --shot 5: trains and tests 5-shot; --query_per_class 5 / _test 1
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
