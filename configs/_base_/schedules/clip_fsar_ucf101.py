# ucf101: CLIP-FSAR's schedule (method.md 2.4), counted in episodes.
# The official runs train 3000 iterations of 4 GPUs x 1 episode with an
# Adam step every 4 iterations (16 episodes per update). Here: 1 episode per
# iteration and `accumulative_counts=16`, so 12000 iterations. With G GPUs,
# divide max_iters, the milestones and val_interval by G and set
# accumulative_counts=16 // G.
_base_ = ['../default_runtime.py']
video_text_weight = 1.5  # CLIP-FSAR's USE_CLASSIFICATION_VALUE

train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=12000, val_interval=400)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='CachedEpisodicTestLoop')  # exact, docs/benchmarks.md

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=2e-06, betas=(0.9, 0.999), weight_decay=0),
    accumulative_counts=16)
# Warm-up from 1e-07 over the first 2400 episodes, then x0.1 at 4800
# and x0.01 at 7200 episodes: the schedule the official code
# effectively runs (its LR "epoch" advances twice as fast as its config
# suggests; method.md 2.4 (ii)).
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.05,
        by_epoch=False,
        begin=0,
        end=2400),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[4800, 7200],
        gamma=0.1,
        begin=2400,
        end=12000)
]
default_hooks = dict(checkpoint=dict(interval=400, max_keep_ckpts=2))
