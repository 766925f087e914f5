# MoLo, Kinetics-100, 5-way 1-shot, ImageNet ResNet-50: the official recipe
# (alibaba-mmai-research/MoLo
# configs/projects/MoLo/kinetics100/MoLo_K100_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/molo_kinetics100.py',
    '_base_/datasets/kinetics100_alibaba.py',
    '_base_/models/resnet50_in1k.py'
]
model = dict(cls_head=_base_.head)
# SHOT 1 in training (the 5-shot yamls too: SHOT_TEST 5), QUERY_PER_CLASS 6
train_dataloader = dict(dataset=dict(num_shots=1, num_queries=6))
val_dataloader = dict(dataset=dict(num_shots=1))
test_dataloader = dict(dataset=dict(num_shots=1))
