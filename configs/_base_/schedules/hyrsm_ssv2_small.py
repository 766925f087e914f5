# HyRSM's ssv2_small schedule (alibaba-mmai-research/HyRSM
# configs/projects/hyrsm/ssv2_small/HyRSM_SSv2_Small_{1,5}shot_v1.yaml
# SOLVER/TRAIN; docs/recipes.md), in episodes: the official run is 20,000
# iterations (NUM_TRAIN_TASKS) of 4 GPUs x 1 episode = 80,000 episodes, an
# Adam step every 4 iterations (BATCH_SIZE_PER_TASK: 16 episodes). Its LR
# policy sees the "epoch" floor(i/S) + i/S (S = STEPS_ITER = 1,500 iterations
# = 6,000 episodes), so with STEPS [0, 4, 8], LRS [1, 0.1, 0.01]: linear
# warm-up from WARMUP_START_LR 2e-05 to BASE_LR 0.0001 over the first 6,000
# episodes, then x0.1 from episode 12,000, x0.01 from episode 24,000.
_base_ = ['./alibaba.py']
# The head as the yaml sets it (TRAIN); a recipe adds the shot-dependent
# and encoder-dependent keys: model = dict(cls_head=dict(_base_.head, ...)).
head = dict(
    type='HyRSMHead',
    num_classes=64,  # TRAIN.NUM_CLASS
    relation=dict(
        type='HybridRelation',
        a_scale=10.0,  # TRAIN.POSITION_A
        b_scale=1.0),  # TRAIN.POSITION_B
    loss_frame_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=0.15))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=0.0001))
# validation and checkpoint every VAL_FRE_ITER = 1000 iterations
train_cfg = dict(max_iters=80000, val_interval=4000)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=6000),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[12000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=80000),
    dict(
        type='MultiStepLR',
        milestones=[24000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=80000),
]
default_hooks = dict(checkpoint=dict(interval=4000))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
