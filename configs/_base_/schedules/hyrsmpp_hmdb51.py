# HyRSM++'s hmdb51 schedule (alibaba-mmai-research/HyRSMPlusPlus configs/proj
# ects/hyrsmplusplus/hmdb51/HyRSMplusplus_HMDB51_{1,5}shot_v1.yaml
# SOLVER/TRAIN; docs/recipes.md), in episodes: the official run is 2,000
# iterations (NUM_TRAIN_TASKS) of 4 GPUs x 1 episode = 8,000 episodes, an
# Adam step every 4 iterations (BATCH_SIZE_PER_TASK: 16 episodes). Its LR
# policy sees the "epoch" floor(i/S) + i/S (S = STEPS_ITER = 300 iterations =
# 1,200 episodes), so with STEPS [0, 2, 3, 7], LRS [1, 0.5, 0.1, 0.01]:
# linear warm-up from WARMUP_START_LR 1e-05 to BASE_LR 5e-05 over the first
# 1,200 episodes, then x0.5 from episode 1,200, x0.1 from episode 2,400,
# x0.01 from episode 4,800.
_base_ = ['./alibaba.py']
# The head as the yaml sets it (TRAIN); a recipe adds the shot-dependent
# and encoder-dependent keys: model = dict(cls_head=dict(_base_.head, ...)).
head = dict(
    type='HyRSMHead',
    num_classes=31,  # TRAIN.NUM_CLASS
    relation=dict(
        type='HybridRelation',
        a_scale=50.0,  # TRAIN.POSITION_A
        b_scale=1.0),  # TRAIN.POSITION_B
    # WINDOW_SIZE, TEMPORAL_BALANCE, BALANCE_COEFFICIENT, TEMPORAL_LOSS_WEIGHT
    # (TEMPORAL_WEIGHT is read by no code)
    loss_temporal=dict(
        type='TemporalCoherenceLoss',
        window_size=1,
        temporal_balance=51.0,
        balance_coefficient=20.0,
        loss_weight=0.2),
    loss_frame_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=0.15))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=5e-05))
# validation and checkpoint every VAL_FRE_ITER = 100 iterations
train_cfg = dict(max_iters=8000, val_interval=400)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=1200),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[1200],
        gamma=0.5,
        by_epoch=False,
        begin=0,
        end=8000),
    dict(
        type='MultiStepLR',
        milestones=[2400],
        gamma=0.2,
        by_epoch=False,
        begin=0,
        end=8000),
    dict(
        type='MultiStepLR',
        milestones=[4800],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=8000),
]
default_hooks = dict(checkpoint=dict(interval=400))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
