# HyRSM++, Kinetics-100, 5-way 5-shot, ImageNet ResNet-50: the official
# recipe (alibaba-mmai-research/HyRSMPlusPlus configs/projects/hyrsmplusplus/
# kinetics100/HyRSMplusplus_K100_5shot_v1.yaml; docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsmpp_kinetics100.py',
    '_base_/datasets/kinetics100_alibaba.py',
    '_base_/models/resnet50_in1k.py'
]
# CNN_HyRSM_plusplus_5shot
model = dict(cls_head=dict(_base_.head, prototype_before_relation=True))
# SHOT 5, QUERY_PER_CLASS 3 in training; 1 query per class in test
train_dataloader = dict(dataset=dict(num_shots=5, num_queries=3))
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
