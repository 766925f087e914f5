# HyRSM's kinetics100 schedule (alibaba-mmai-research/HyRSM
# configs/projects/hyrsm/kinetics100/HyRSM_K100_{1,5}shot_v1.yaml
# SOLVER/TRAIN; docs/recipes.md), in episodes: the official run is 1,200
# iterations (NUM_TRAIN_TASKS) of 4 GPUs x 1 episode = 4,800 episodes, an
# Adam step every 4 iterations (BATCH_SIZE_PER_TASK: 16 episodes). Its LR
# policy sees the "epoch" floor(i/S) + i/S (S = STEPS_ITER = 100 iterations =
# 400 episodes), so with STEPS [0, 4, 6, 9], LRS [1, 0.5, 0.1, 0.05]: linear
# warm-up from WARMUP_START_LR 5e-06 to BASE_LR 2.2e-05 over the first 400
# episodes, then x0.5 from episode 800, x0.1 from episode 1,200, x0.05 from
# episode 2,000.
_base_ = ['./alibaba.py']
# The head as the yaml sets it (TRAIN); a recipe adds the shot-dependent
# and encoder-dependent keys: model = dict(cls_head=dict(_base_.head, ...)).
head = dict(
    type='HyRSMHead',
    num_classes=64,  # TRAIN.NUM_CLASS
    relation=dict(
        type='HybridRelation',
        a_scale=2048.0,  # TRAIN.POSITION_A
        b_scale=0.01),  # TRAIN.POSITION_B
    loss_frame_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=0.4))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=2.2e-05))
# validation and checkpoint every VAL_FRE_ITER = 50 iterations
train_cfg = dict(max_iters=4800, val_interval=200)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.227272727273,
        by_epoch=False,
        begin=0,
        end=400),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[800],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=4800),
    dict(
        type='MultiStepLR',
        milestones=[1200],
        gamma=0.2,
        by_epoch=False,
        begin=0,
        end=4800),
    dict(
        type='MultiStepLR',
        milestones=[2000],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=4800),
]
default_hooks = dict(checkpoint=dict(interval=200))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
