# CLIP-M2DF on the built-in synthetic benchmark, tiny CLIP, CPU (README).
# Same head as the benchmark configs (_base_/models/m2df_head.py), with a
# feed-forward width in proportion to the tiny CLIP's D = 64, and, as every
# demo head, a learnable logit scale from 10 (the randomly initialised
# encoder's frame features are nearly identical at first).
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
model = dict(
    cls_head=dict(
        type='M2DFHead',
        prompt_selector=dict(
            type='ProbabilityPromptSelector',
            top_k=4,
            temperature=200.0,
            mode='sample'),
        local_context=dict(type='LocalTemporalContext'),
        global_context=dict(type='GlobalTemporalContext', dropout=0.1),
        fusion=dict(
            type='CrossTransformerFusion',
            num_heads=8,
            ffn_dims=256,
            proj_drop=0.2,
            ffn_drop=0.05),
        otam=dict(type='OTAM', lbda=0.5, bidirectional=True),
        init_scale=10.0,
        learnable_scale=True,
        loss_cls=dict(type='CrossEntropyLoss', loss_weight=1.0),
        loss_distill=dict(
            type='MutualDistillLoss',
            conditions=('t', 'v'),
            direction='bidirectional',
            loss_weight=1.0)))
