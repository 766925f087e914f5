# MoLo, SSv2-Full, 5-way 5-shot, CLIP ViT-B/16: the official ResNet-50 recipe
# on CLIP (no CLIP recipe was released) (alibaba-mmai-research/MoLo
# configs/projects/MoLo/ssv2_full/MoLo_SSv2_Full_5shot_v1.yaml;
# docs/recipes.md).
_base_ = [
    '_base_/schedules/molo_ssv2_full.py',
    '_base_/datasets/ssv2_full_alibaba.py',
    '_base_/models/clip_vit-b16.py'
]
# 14x14 patch-token maps (a ResNet's are 7x7): the decoder upsamples x16
# instead of x32 (2, 4, 4): 14 x 16 = 224 px
model = dict(
    text_encoder=None,  # no text in this method
    cls_head=dict(
        _base_.head,
        decoder=dict(type='MoLoMotionDecoder', scale_factors=(2, 2, 4))))
# SHOT 1 in training (the 5-shot yamls too: SHOT_TEST 5), QUERY_PER_CLASS 6
train_dataloader = dict(dataset=dict(num_shots=1, num_queries=6))
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
