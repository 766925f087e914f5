# CLIP-FSAR's ssv2_small schedule
# (configs/projects/CLIPFSAR/ssv2_small/CLIPFSAR_SSv2_Small_{1,5}shot_v1.yaml
# SOLVER/TRAIN; docs/method.md §2.4), in episodes: the official run is
# 30,000 iterations of 4 GPUs x 1 episode = 120,000 episodes, an Adam
# step every 4 iterations (16 episodes). Its LR policy sees the "epoch"
# floor(i/S) + i/S (S = STEPS_ITER = 2000 iterations = 8,000 episodes), so
# with STEPS [0, 4, 6], LRS [1, 0.1, 0.01]: linear warm-up from
# WARMUP_START_LR 2e-5 to BASE_LR 5e-5 over the first 8,000 episodes,
# x0.1 from episode 16,000, x0.01 from episode 24,000
# (docs/method.md §2.4 (ii)).
_base_ = ['./clip_fsar.py']
video_text_weight = 3.0  # TRAIN.USE_CLASSIFICATION_VALUE

# validation and checkpoint every VAL_FRE_ITER = 1000 iterations
train_cfg = dict(max_iters=120000, val_interval=4000)
optim_wrapper = dict(optimizer=dict(lr=5e-5))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.4,
        by_epoch=False,
        begin=0,
        end=8000),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute
    dict(
        type='MultiStepLR',
        milestones=[16000, 24000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=120000)
]
default_hooks = dict(checkpoint=dict(interval=4000))
