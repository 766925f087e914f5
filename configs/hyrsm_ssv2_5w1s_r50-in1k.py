# HyRSM, SSv2-Full, 5-way 1-shot, ImageNet ResNet-50: the official recipe
# (alibaba-mmai-research/HyRSM
# configs/projects/hyrsm/ssv2_full/HyRSM_SSv2_Full_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsm_ssv2_full.py',
    '_base_/datasets/ssv2_full_alibaba.py',
    '_base_/models/resnet50_in1k.py'
]
# CNN_HyRSM_1shot
model = dict(cls_head=dict(_base_.head, prototype_before_relation=False))
# SHOT 1, QUERY_PER_CLASS 7 in training; 1 query per class in test
train_dataloader = dict(dataset=dict(num_shots=1, num_queries=7))
val_dataloader = dict(dataset=dict(num_shots=1))
test_dataloader = dict(dataset=dict(num_shots=1))
