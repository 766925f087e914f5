# CLIP-FSAR on the built-in synthetic benchmark with the tiny CLIP
# pretrained on the captioned synthetic world (docs/tiny_clip.md) instead of
# random weights.
# Head, data and budget as configs/clip_fsar_demo_5w1s.py.
_base_ = ['./clip_fsar_demo_5w1s.py']
tiny_clip_world = 'm2df_mmaction/synthetic/weights/tiny_clip_world.pth'
# class names in the template of the pretraining captions: 'a shape <name>'
model = dict(
    backbone=dict(pretrained=tiny_clip_world),
    text_encoder=dict(pretrained=tiny_clip_world, template='a shape {}'))
