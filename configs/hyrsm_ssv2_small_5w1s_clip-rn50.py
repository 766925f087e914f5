# HyRSM, SSv2-Small, 5-way 1-shot, CLIP RN50: the official ResNet-50 recipe
# on CLIP (no CLIP recipe was released) (alibaba-mmai-research/HyRSM
# configs/projects/hyrsm/ssv2_small/HyRSM_SSv2_Small_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsm_ssv2_small.py',
    '_base_/datasets/ssv2_small_alibaba.py',
    '_base_/models/clip_rn50.py'
]
# CNN_HyRSM_1shot
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=dict(_base_.head, prototype_before_relation=False))
# SHOT 1, QUERY_PER_CLASS 7 in training; 1 query per class in test
train_dataloader = dict(dataset=dict(num_shots=1, num_queries=7))
val_dataloader = dict(dataset=dict(num_shots=1))
test_dataloader = dict(dataset=dict(num_shots=1))
