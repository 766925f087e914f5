# HyRSM++, Kinetics-100, 5-way 1-shot, CLIP RN50: the official ResNet-50
# recipe on CLIP (no CLIP recipe was released)
# (alibaba-mmai-research/HyRSMPlusPlus configs/projects/hyrsmplusplus/kinetic
# s100/HyRSMplusplus_K100_1shot_v1.yaml; docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsmpp_kinetics100.py',
    '_base_/datasets/kinetics100.py',
    '_base_/pipelines/alibaba.py',
    '_base_/models/clip_rn50.py'
]
model = dict(
    text_encoder=None,  # no text in this method
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
        dataset=dict(pipeline=_base_.alibaba_k100_train_pipeline),
        query_pipeline=_base_.alibaba_k100_query_pipeline,
        num_shots=1,
        num_queries=7))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_k100_test_pipeline),
        num_shots=1))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_k100_test_pipeline),
        num_shots=1))
