# D2ST-Adapter's SSv2-Full schedule, ResNet-50 variant
# (qizhongtan/D2ST-Adapter config/ssv2_full/ResNet_SSv2_full.yaml
# SOLVER/TRAIN; docs/recipes.md), in episodes: 120,000 iterations
# (NUM_TRAIN_TASKS) of 2 GPUs x 1 episode = 240,000 episodes. LR: warm-up
# from WARMUP_START_LR 0.0004 to BASE_LR 0.002 over the first STEPS_ITER =
# 6,000 iterations (12,000 episodes; its loop passes the epoch i /
# STEPS_ITER), then LRS [1, 0.5, 0.1, 0.05] at epochs [4, 6, 8]: 0.5 x
# BASE_LR from episode 48,000, 0.1 x BASE_LR from episode 72,000, 0.05 x
# BASE_LR from episode 96,000.
_base_ = ['./d2st_r50.py']
# The head as the yaml sets it (TRAIN); a recipe adds nothing but shots.
head = dict(
    type='D2STHead',
    num_classes=64,  # TRAIN.NUM_CLASS
    loss_video_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=1.0))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=0.002))
# validation and checkpoint every VAL_FRE_ITER = 60,000 iterations
train_cfg = dict(max_iters=240000, val_interval=120000)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=12000),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[48000],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=240000),
    dict(
        type='MultiStepLR',
        milestones=[72000],
        gamma=0.2,
        by_epoch=False,
        begin=0,
        end=240000),
    dict(
        type='MultiStepLR',
        milestones=[96000],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=240000),
]
default_hooks = dict(checkpoint=dict(interval=120000))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
