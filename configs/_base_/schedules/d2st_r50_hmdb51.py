# D2ST-Adapter's HMDB51 schedule, ResNet-50 variant (qizhongtan/D2ST-Adapter
# config/hmdb51/ResNet_HMDB51.yaml SOLVER/TRAIN; docs/recipes.md), in
# episodes: 8,000 iterations (NUM_TRAIN_TASKS) of 2 GPUs x 1 episode =
# 16,000 episodes. LR: warm-up from WARMUP_START_LR 0.0004 to BASE_LR 0.002
# over the first STEPS_ITER = 400 iterations (800 episodes; its loop passes
# the epoch i / STEPS_ITER), then LRS [1, 0.1, 0.05, 0.01] at epochs [4, 6,
# 8]: 0.1 x BASE_LR from episode 3,200, 0.05 x BASE_LR from episode 4,800,
# 0.01 x BASE_LR from episode 6,400.
_base_ = ['./d2st_r50.py']
# The head as the yaml sets it (TRAIN); a recipe adds nothing but shots.
head = dict(
    type='D2STHead',
    num_classes=31,  # TRAIN.NUM_CLASS
    loss_video_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=2.0))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=0.002))
# validation and checkpoint every VAL_FRE_ITER = 4,000 iterations
train_cfg = dict(max_iters=16000, val_interval=8000)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=800),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[3200],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=16000),
    dict(
        type='MultiStepLR',
        milestones=[4800],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=16000),
    dict(
        type='MultiStepLR',
        milestones=[6400],
        gamma=0.2,
        by_epoch=False,
        begin=0,
        end=16000),
]
default_hooks = dict(checkpoint=dict(interval=8000))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
