# D2ST-Adapter's Kinetics-100 schedule, ResNet-50 variant
# (qizhongtan/D2ST-Adapter config/kinetics100/ResNet_K100.yaml SOLVER/TRAIN;
# docs/recipes.md), in episodes: 10,000 iterations (NUM_TRAIN_TASKS) of 2
# GPUs x 1 episode = 20,000 episodes. LR: warm-up from WARMUP_START_LR
# 0.0004 to BASE_LR 0.002 over the first STEPS_ITER = 500 iterations (1,000
# episodes; its loop passes the epoch i / STEPS_ITER), then LRS [1, 0.1,
# 0.05, 0.01] at epochs [2, 5, 8]: 0.1 x BASE_LR from episode 2,000, 0.05 x
# BASE_LR from episode 5,000, 0.01 x BASE_LR from episode 8,000.
_base_ = ['./d2st_r50.py']
# The head as the yaml sets it (TRAIN); a recipe adds nothing but shots.
head = dict(
    type='D2STHead',
    num_classes=64,  # TRAIN.NUM_CLASS
    loss_video_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=1.5))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=0.002))
# validation and checkpoint every VAL_FRE_ITER = 5,000 iterations
train_cfg = dict(max_iters=20000, val_interval=10000)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=1000),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[2000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=20000),
    dict(
        type='MultiStepLR',
        milestones=[5000],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=20000),
    dict(
        type='MultiStepLR',
        milestones=[8000],
        gamma=0.2,
        by_epoch=False,
        begin=0,
        end=20000),
]
default_hooks = dict(checkpoint=dict(interval=10000))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
