# Mixing 2: FewShotRecognizer with MMAction2's VisionTransformer (VideoMAE
# ViT; a small random one: 32 px, patch 8, 2 blocks, D = 64) and the OTAM
# head. The ViT takes clips [M, C, T, H, W]; the recognizer gives frames
# [M, C, H, W], so docs/examples/frames_as_clips.py makes each frame a
# one-frame clip (num_frames=1, tubelet_size=1). MMAction2's TimeSformer
# works the same way (num_frames=1).
_base_ = [
    '../_base_/schedules/demo_cpu.py', '../_base_/datasets/synthetic_5w1s.py',
    '../_base_/models/clip_preprocessor.py'
]
custom_imports = dict(
    imports=['m2df_mmaction', 'docs.examples.frames_as_clips'],
    allow_failed_imports=False)
model = dict(
    type='FewShotRecognizer',
    backbone=dict(
        type='FramesAsClips',
        backbone=dict(
            type='VisionTransformer',
            img_size=32,
            patch_size=8,
            embed_dims=64,
            depth=2,
            num_heads=4,
            num_frames=1,
            tubelet_size=1)),
    cls_head=dict(type='OTAMHead'),
    data_preprocessor={{_base_.data_preprocessor}})
