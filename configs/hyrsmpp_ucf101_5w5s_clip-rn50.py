# HyRSM++, UCF101, 5-way 5-shot, CLIP RN50: the official ResNet-50 recipe on
# CLIP (no CLIP recipe was released) (alibaba-mmai-research/HyRSMPlusPlus
# configs/projects/hyrsmplusplus/ucf101/HyRSMplusplus_UCF101_5shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsmpp_ucf101.py',
    '_base_/datasets/ucf101.py',
    '_base_/pipelines/alibaba.py',
    '_base_/models/clip_rn50.py'
]
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=dict(
        type='HyRSMHead',
        # CNN_HyRSM_plusplus_5shot
        prototype_before_relation=True,
        relation=dict(
            type='HybridRelation',
            a_scale=_base_.pe_a_scale,
            b_scale=_base_.pe_b_scale),
        num_classes=_base_.num_train_classes,
        loss_temporal=_base_.temporal_coherence,
        loss_frame_cls=dict(
            type='CrossEntropyLoss',
            loss_weight=_base_.frame_cls_weight)))
# SHOT 5, QUERY_PER_CLASS 3 in training; 1 query per class in test
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_train_pipeline),
        query_pipeline=_base_.alibaba_query_pipeline,
        num_shots=5,
        num_queries=3))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline),
        num_shots=5))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline),
        num_shots=5))
