# CLIP-FSAR head as the official code computes it (docs/method.md §2.2;
# docs/recipes.md): one temporal transformer (8 heads, FFN 2048, dropout
# 0.2/0.05), the class text token joining each support video, bidirectional
# OTAM (lambda 0.5), logits = -distance, cross-entropy averaged over the
# queries plus the video-text loss (mean over videos) weighted per dataset
# by the schedule's `video_text_weight` (USE_CLASSIFICATION_VALUE).
# embed_dims / text_dims come from the CLIP encoders (FewShotRecognizer).
clip_fsar_head = dict(
    type='CLIPFSARHead',
    transformer=dict(
        type='CrossTransformerFusion',
        num_heads=8,
        ffn_dims=2048,
        proj_drop=0.2,
        ffn_drop=0.05),
    merge_before=False,
    otam=dict(type='OTAM', lbda=0.5, bidirectional=True),
    loss_cls=dict(
        type='FewShotCrossEntropyLoss', loss_weight=1.0, reduction='mean'),
    loss_video_text=dict(
        type='VideoTextLoss', scale=1.0, learnable_scale=True,
        reduction='mean'))
