# HyRSM++, UCF101, 5-way 1-shot, ImageNet ResNet-50: the official recipe
# (alibaba-mmai-research/HyRSMPlusPlus
# configs/projects/hyrsmplusplus/ucf101/HyRSMplusplus_UCF101_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsmpp_ucf101.py',
    '_base_/datasets/ucf101.py',
    '_base_/pipelines/alibaba.py',
    '_base_/models/resnet50_in1k.py'
]
model = dict(
    cls_head=dict(
        type='HyRSMHead',
        # CNN_HyRSM_plusplus_1shot
        prototype_before_relation=False,
        relation=dict(
            type='HybridRelation',
            a_scale=_base_.pe_a_scale,
            b_scale=_base_.pe_b_scale),
        num_classes=_base_.num_train_classes,
        loss_temporal=_base_.temporal_coherence,
        loss_frame_cls=dict(
            type='CrossEntropyLoss',
            loss_weight=_base_.frame_cls_weight)))
# SHOT 1, QUERY_PER_CLASS 7 in training; 1 query per class in test
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_train_pipeline),
        query_pipeline=_base_.alibaba_query_pipeline,
        num_shots=1,
        num_queries=7))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline),
        num_shots=1))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline),
        num_shots=1))
