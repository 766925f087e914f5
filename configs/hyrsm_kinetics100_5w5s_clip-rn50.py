# HyRSM, Kinetics-100, 5-way 5-shot, CLIP RN50: the official ResNet-50 recipe
# on CLIP (no CLIP recipe was released) (alibaba-mmai-research/HyRSM
# configs/projects/hyrsm/kinetics100/HyRSM_K100_5shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsm_kinetics100.py',
    '_base_/datasets/kinetics100_alibaba.py',
    '_base_/models/clip_rn50.py'
]
# CNN_HyRSM_5shot
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=dict(_base_.head, prototype_before_relation=True))
# SHOT 5, QUERY_PER_CLASS 3 in training; 1 query per class in test
train_dataloader = dict(dataset=dict(num_shots=5, num_queries=3))
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
