# CLIP-FSAR's kinetics100 schedule
# (configs/projects/CLIPFSAR/kinetics100/CLIPFSAR_K100_{1,5}shot_v1.yaml
# SOLVER/TRAIN; docs/method.md §2.4), in episodes: the official run is
# 5,000 iterations of 4 GPUs x 1 episode = 20,000 episodes, an Adam
# step every 4 iterations (16 episodes). Its LR policy sees the "epoch"
# floor(i/S) + i/S (S = STEPS_ITER = 250 iterations = 1,000 episodes), so
# with STEPS [0, 6, 9], LRS [1, 0.1, 0.01]: linear warm-up from
# WARMUP_START_LR 5e-6 to BASE_LR 1e-5 over the first 1,000 episodes,
# x0.1 from episode 3,000, x0.01 from episode 5,000
# (docs/method.md §2.4 (ii)).
_base_ = ['./clip_fsar.py']
video_text_weight = 1.5  # TRAIN.USE_CLASSIFICATION_VALUE

# validation and checkpoint every VAL_FRE_ITER = 100 iterations
train_cfg = dict(max_iters=20000, val_interval=400)
optim_wrapper = dict(optimizer=dict(lr=1e-5))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.5,
        by_epoch=False,
        begin=0,
        end=1000),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute
    dict(
        type='MultiStepLR',
        milestones=[3000, 5000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=20000)
]
default_hooks = dict(checkpoint=dict(interval=400))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
