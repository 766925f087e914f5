# TRX on the built-in synthetic benchmark, tiny CLIP, CPU (see README).
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
# The official head: tuples of 2 and 3 frames, width 1152, PE x 0.1, and no
# logit scale (its squared distances are not bounded as OTAM's 1 - cos is).
# num_frames: the pipeline's num_clips (_base_/datasets/synthetic_5w1s.py).
model = dict(
    text_encoder=None,
    cls_head=dict(type='TRXHead', num_frames=8, cardinalities=(2, 3)))
