# CLIP-FSAR, hmdb51, 5-way 5-shot, CLIP ViT-B-16.
_base_ = [
    '_base_/schedules/hmdb51.py', '_base_/datasets/hmdb51.py',
    '_base_/models/clip_vit-b16.py'
]
model = dict(
    cls_head=dict(
        type='CLIPFSARHead',
        merge_before=True,
        otam=dict(type='OTAM', lbda=0.5, bidirectional=True),
        loss_video_text=dict(
            type='VideoTextLoss',
            loss_weight={{_base_.video_text_weight}})))
# CLIP-FSAR's optimizer: Adam, weight decay 1e-3, none on norm layers.
optim_wrapper = dict(
    optimizer=dict(weight_decay=1e-3),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
# As the official 5-shot configs: train 1-shot, test 5-shot, and merge
# the supports of a class before the transformer.
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
