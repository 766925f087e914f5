# MoLo, Kinetics-100, 5-way 1-shot, ImageNet ResNet-50: the official recipe
# (alibaba-mmai-research/MoLo
# configs/projects/MoLo/kinetics100/MoLo_K100_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/molo_kinetics100.py',
    '_base_/datasets/kinetics100.py',
    '_base_/pipelines/alibaba.py',
    '_base_/models/resnet50_in1k.py'
]
model = dict(
    cls_head=dict(
        type='MoLoHead',
        num_classes=_base_.num_train_classes,
        positional_encoding=dict(
            type='ScaledPositionalEncoding',
            a_scale=_base_.pe_a_scale,
            b_scale=_base_.pe_b_scale,
            max_len=20,
            dropout=0.1),
        loss_class=dict(
            type='CrossEntropyLoss',
            loss_weight=_base_.frame_cls_weight),
        loss_recons=dict(
            type='MotionReconstructionLoss',
            loss_weight=_base_.recons_weight)))
# SHOT 1 in training (the 5-shot yamls too: SHOT_TEST 5), QUERY_PER_CLASS 6
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_k100_train_pipeline),
        query_pipeline=_base_.alibaba_k100_query_pipeline,
        num_shots=1,
        num_queries=6))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_k100_test_pipeline),
        num_shots=1))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_k100_test_pipeline),
        num_shots=1))
