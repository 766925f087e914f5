# OTAM on the built-in synthetic benchmark, tiny CLIP, CPU (see README).
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
# A learnable logit scale from 10 (as ProtoNet's) lets the randomly
# initialised encoder learn much faster; OTAM itself has none (scale 1).
model = dict(
    text_encoder=None,
    cls_head=dict(type='OTAMHead', init_scale=10.0, learnable_scale=True))
