# CLIP-FSAR, SSv2-Small, 5-way 1-shot, CLIP ViT-B/16: the official
# recipe (docs/recipes.md).
_base_ = [
    '_base_/schedules/clip_fsar_ssv2_small.py',
    '_base_/datasets/ssv2_small.py', '_base_/pipelines/clip_fsar.py',
    '_base_/models/clip_vit-b16.py', '_base_/models/clip_fsar_head.py'
]
model = dict(
    cls_head=dict(
        _base_.clip_fsar_head,
        loss_video_text=dict(
            _base_.clip_fsar_head.loss_video_text,
            loss_weight=_base_.video_text_weight)))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.clip_fsar_train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.clip_fsar_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.clip_fsar_test_pipeline)))
