# MoLo on the built-in synthetic benchmark, tiny CLIP, CPU (see README).
#
# What the tiny CLIP changes for MoLo (official: a ResNet's 7x7 layer4 maps
# of 224 px frames, D = 2048): the ViT-32's 'spatial' maps are its 4x4
# patch tokens of the 32 px frames (patch 8), D = 64, so the motion stream
# convolves 4x4 maps of D/8 = 8 channels and the decoder upsamples x8
# (scale_factors (2, 2, 2)) instead of x32 to reconstruct the 32 px frame
# differences. The FFN keeps the official width 2048 (a config option).
# Raw frames are read in training only (the reconstruction target), so the
# cached val/test loops of the base schedule serve MoLo.
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
model = dict(
    text_encoder=None,
    cls_head=dict(
        type='MoLoHead',
        num_classes=24,  # data/synthetic/train_classes.txt
        decoder=dict(type='MoLoMotionDecoder', scale_factors=(2, 2, 2)),
        # as the OTAM demo: a learnable logit scale from 10 (MoLo has none)
        init_scale=10.0,
        learnable_scale=True))
