# HyRSM++, HMDB51, 5-way 1-shot, CLIP RN50: the official ResNet-50 recipe on
# CLIP (no CLIP recipe was released) (alibaba-mmai-research/HyRSMPlusPlus
# configs/projects/hyrsmplusplus/hmdb51/HyRSMplusplus_HMDB51_1shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/hyrsmpp_hmdb51.py',
    '_base_/datasets/hmdb51_alibaba.py',
    '_base_/models/clip_rn50.py'
]
# CNN_HyRSM_plusplus_1shot
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=dict(_base_.head, prototype_before_relation=False))
# SHOT 1, QUERY_PER_CLASS 7 in training; 1 query per class in test
train_dataloader = dict(dataset=dict(num_shots=1, num_queries=7))
val_dataloader = dict(dataset=dict(num_shots=1))
test_dataloader = dict(dataset=dict(num_shots=1))
