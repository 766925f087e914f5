# kinetics100: CLIP-FSAR's schedule (method.md 2.4), counted in episodes.
# The official runs train 5000 iterations of 4 GPUs x 1 episode with an
# Adam step every 4 iterations (16 episodes per update). Here: 1 episode per
# iteration and `accumulative_counts=16`, so 20000 iterations. With G GPUs,
# divide max_iters, the milestones and val_interval by G and set
# accumulative_counts=16 // G.
_base_ = ['../default_runtime.py']
video_text_weight = 1.5  # CLIP-FSAR's USE_CLASSIFICATION_VALUE

train_cfg = dict(
    type='EpisodicTrainLoop', max_iters=20000, val_interval=400)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='CachedEpisodicTestLoop')  # exact, docs/benchmarks.md

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-05, betas=(0.9, 0.999), weight_decay=0),
    accumulative_counts=16)
# Warm-up from 5e-06 over the first 1000 episodes, then x0.1 at 3000
# and x0.01 at 5000 episodes: the schedule the official code
# effectively runs (its LR "epoch" advances twice as fast as its config
# suggests; method.md 2.4 (ii)).
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.5,
        by_epoch=False,
        begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[3000, 5000],
        gamma=0.1,
        begin=1000,
        end=20000)
]
default_hooks = dict(checkpoint=dict(interval=400, max_keep_ckpts=2))
