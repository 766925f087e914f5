# D2ST-Adapter on the built-in synthetic benchmark with the tiny CLIP
# pretrained on the captioned synthetic world (docs/tiny_clip.md) instead of
# random weights: the frozen tower D2ST-Adapter is made for. Head, adapters,
# data and budget as configs/d2st_demo_5w1s.py.
_base_ = ['./d2st_demo_5w1s.py']
tiny_clip_world = 'm2df_mmaction/synthetic/weights/tiny_clip_world.pth'
# checkpoints hold the trained parts only; the frozen tower comes back from
# tiny_clip_world when they are loaded
model = dict(
    backbone=dict(pretrained=tiny_clip_world, save_trainable_only=True))
