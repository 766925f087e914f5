# TS-FSAR on the built-in synthetic benchmark with the tiny CLIP pretrained
# on the captioned synthetic world (docs/tiny_clip.md) instead of random
# weights: the frozen towers TS-FSAR is made for, and class descriptions in
# the words of the pretraining captions. Head, side network, data and
# budget as configs/tsfsar_demo_5w1s.py.
_base_ = ['./tsfsar_demo_5w1s.py']
tiny_clip_world = 'm2df_mmaction/synthetic/weights/tiny_clip_world.pth'
# checkpoints hold the trained parts only; the frozen tower comes back from
# tiny_clip_world when they are loaded
model = dict(
    backbone=dict(pretrained=tiny_clip_world, save_trainable_only=True),
    text_encoder=dict(pretrained=tiny_clip_world))
