_base_ = ['../default_runtime.py']

# A few minutes of episodic training of a tiny, randomly initialised CLIP on
# 2 CPU cores (settings from a learnability study on the synthetic
# benchmark: lr 1e-3 collapses the features, 1e-4 learns slowly).
max_iters = 1000
train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=max_iters, val_interval=250)
val_cfg = dict(type='CachedEpisodicValLoop')  # exact, docs/benchmarks.md
test_cfg = dict(type='CachedEpisodicTestLoop')  # exact, docs/benchmarks.md

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.05),
    # no decay on 1-D parameters (norms, biases, embeddings, logit scales)
    paramwise_cfg=dict(flat_decay_mult=0.0),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.02, by_epoch=False, begin=0,
         end=50),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=50,
        end=max_iters,
        eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=250, max_keep_ckpts=1))
