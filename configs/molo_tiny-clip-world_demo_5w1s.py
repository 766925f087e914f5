# MoLo on the built-in synthetic benchmark with the tiny CLIP pretrained on
# the captioned synthetic world (docs/tiny_clip.md) instead of random weights.
# Head, data and budget as configs/molo_demo_5w1s.py.
_base_ = ['./molo_demo_5w1s.py']
tiny_clip_world = 'm2df_mmaction/synthetic/weights/tiny_clip_world.pth'
model = dict(backbone=dict(pretrained=tiny_clip_world))
