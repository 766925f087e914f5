# MoLo, SSv2-Full, 5-way 1-shot, CLIP ViT-B/16: the official ResNet-50 recipe
# on CLIP (no CLIP recipe was released) (alibaba-mmai-research/MoLo
# configs/projects/MoLo/ssv2_full/MoLo_SSv2_Full_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/molo_ssv2_full.py',
    '_base_/datasets/ssv2_full.py',
    '_base_/pipelines/alibaba.py',
    '_base_/models/clip_vit-b16.py'
]
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=dict(
        type='MoLoHead',
        num_classes=_base_.num_train_classes,
        positional_encoding=dict(
            type='ScaledPositionalEncoding',
            a_scale=_base_.pe_a_scale,
            b_scale=_base_.pe_b_scale,
            max_len=20,
            dropout=0.1),
        # 14x14 patch-token maps (a ResNet's are 7x7): the decoder
        # upsamples x16 instead of x32 (2, 4, 4), 14 x 16 = 224 px
        decoder=dict(type='MoLoMotionDecoder', scale_factors=(2, 2, 4)),
        loss_class=dict(
            type='CrossEntropyLoss',
            loss_weight=_base_.frame_cls_weight),
        loss_recons=dict(
            type='MotionReconstructionLoss',
            loss_weight=_base_.recons_weight)))
# SHOT 1 in training (the 5-shot yamls too: SHOT_TEST 5), QUERY_PER_CLASS 6
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_train_pipeline),
        query_pipeline=_base_.alibaba_query_pipeline,
        num_shots=1,
        num_queries=6))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline),
        num_shots=1))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline),
        num_shots=1))
