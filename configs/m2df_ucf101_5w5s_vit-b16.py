# CLIP-M2DF, ucf101, 5-way 5-shot, CLIP ViT-B-16.
_base_ = [
    '_base_/schedules/ucf101.py', '_base_/datasets/ucf101.py',
    '_base_/models/clip_vit-b16.py', '_base_/models/m2df_head.py'
]
model = dict(cls_head={{_base_.m2df_head}})
train_dataloader = dict(dataset=dict(num_shots=5))
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
