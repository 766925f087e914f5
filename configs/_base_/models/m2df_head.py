# CLIP-M2DF head with the defaults of method.md 1.5 (the faithful version):
# sampled probability prompts, both views, bidirectional OTAM, mutual
# distillation with both conditions in both directions (λ1 = λ2 = 1, λ0 = 0).
# embed_dims / text_dims come from the CLIP encoders (FewShotRecognizer).
m2df_head = dict(
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
        ffn_dims=2048,
        proj_drop=0.2,
        ffn_drop=0.05),
    otam=dict(type='OTAM', lbda=0.5, bidirectional=True),
    loss_cls=dict(type='CrossEntropyLoss', loss_weight=1.0),
    loss_distill=dict(
        type='MutualDistillLoss',
        conditions=('t', 'v'),
        direction='bidirectional',
        loss_weight=1.0),
    loss_video_text=None)
