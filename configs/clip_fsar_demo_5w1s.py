# CLIP-FSAR on the built-in synthetic benchmark, tiny CLIP, CPU (README).
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
model = dict(
    cls_head=dict(
        type='CLIPFSARHead',
        transformer=dict(type='CrossTransformerFusion', ffn_dims=256),
        init_scale=10.0,
        learnable_scale=True,
        loss_video_text=dict(type='VideoTextLoss', loss_weight=1.0)))
