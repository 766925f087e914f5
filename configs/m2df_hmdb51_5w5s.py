# CLIP-M2DF, hmdb51, 5-way 5-shot, CLIP RN50.
_base_ = [
    '_base_/schedules/hmdb51.py', '_base_/datasets/hmdb51.py',
    '_base_/models/clip_rn50.py', '_base_/models/m2df_head.py'
]
model = dict(cls_head={{_base_.m2df_head}})
train_dataloader = dict(dataset=dict(num_shots=5))
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
