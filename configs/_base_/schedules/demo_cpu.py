_base_ = ['../default_runtime.py']

# A few minutes of episodic training on 2 CPU cores.
train_cfg = dict(type='EpisodicTrainLoop', max_iters=1500, val_interval=500)
val_cfg = dict(type='CachedEpisodicValLoop')  # exact, docs/benchmarks.md
test_cfg = dict(type='CachedEpisodicTestLoop')  # exact, docs/benchmarks.md

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.01),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=1500,
         eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=500, max_keep_ckpts=1))
