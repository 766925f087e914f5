# D2ST-Adapter's HMDB51 schedule (qizhongtan/D2ST-Adapter
# config/hmdb51/ViT_HMDB51.yaml SOLVER/TRAIN; docs/recipes.md), in episodes:
# 3,000 iterations (NUM_TRAIN_TASKS) of 2 GPUs x 1 episode = 6,000 episodes.
# LR: warm-up from WARMUP_START_LR 0.0002 to BASE_LR 0.001 over the first
# STEPS_ITER = 150 iterations (300 episodes; its loop passes the epoch i /
# STEPS_ITER), then LRS [1, 0.5, 0.1, 0.05] at epochs [5, 7, 9]: 0.5 x
# BASE_LR from episode 1,500, 0.1 x BASE_LR from episode 2,100, 0.05 x
# BASE_LR from episode 2,700.
_base_ = ['./d2st.py']
# The head as the yaml sets it (TRAIN); a recipe adds nothing but shots.
head = dict(
    type='D2STHead',
    num_classes=31,  # TRAIN.NUM_CLASS
    loss_video_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=2.5))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=0.001))
# validation and checkpoint every VAL_FRE_ITER = 1,500 iterations
train_cfg = dict(max_iters=6000, val_interval=3000)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=300),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[1500],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=6000),
    dict(
        type='MultiStepLR',
        milestones=[2100],
        gamma=0.2,
        by_epoch=False,
        begin=0,
        end=6000),
    dict(
        type='MultiStepLR',
        milestones=[2700],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=6000),
]
default_hooks = dict(checkpoint=dict(interval=3000))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
