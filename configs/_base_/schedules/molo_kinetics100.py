# MoLo's kinetics100 schedule (alibaba-mmai-research/MoLo
# configs/projects/MoLo/kinetics100/MoLo_K100_{1,5}shot_v1.yaml SOLVER/TRAIN;
# docs/recipes.md), in episodes: the official run is 5,000 iterations
# (NUM_TRAIN_TASKS) of 4 GPUs x 1 episode = 20,000 episodes, an Adam step
# every 4 iterations (BATCH_SIZE_PER_TASK: 16 episodes). Its LR policy sees
# the "epoch" floor(i/S) + i/S (S = STEPS_ITER = 350 iterations = 1,400
# episodes), so with STEPS [0, 4, 6], LRS [1, 0.1, 0.01]: linear warm-up from
# WARMUP_START_LR 5e-06 to BASE_LR 2e-05 over the first 1,400 episodes, then
# x0.1 from episode 2,800, x0.01 from episode 4,200.
_base_ = ['./alibaba.py']
# The head as the yaml sets it (TRAIN); a recipe adds the shot-dependent
# and encoder-dependent keys: model = dict(cls_head=dict(_base_.head, ...)).
head = dict(
    type='MoLoHead',
    num_classes=64,  # TRAIN.NUM_CLASS
    positional_encoding=dict(
        type='ScaledPositionalEncoding',
        a_scale=2048.0,  # TRAIN.POSITION_A
        b_scale=0.02,  # TRAIN.POSITION_B
        max_len=20,
        dropout=0.1),
    loss_class=dict(
        type='CrossEntropyLoss',
        loss_weight=0.1),  # TRAIN.USE_CLASSIFICATION_VALUE
    # RECONS_COFF 0.1, not divided by BATCH_SIZE 4 as the other terms
    # are: 0.4 on the mean over episodes
    loss_recons=dict(
        type='MotionReconstructionLoss',
        loss_weight=0.4))
optim_wrapper = dict(optimizer=dict(lr=2e-05))
# validation and checkpoint every VAL_FRE_ITER = 20 iterations
train_cfg = dict(max_iters=20000, val_interval=80)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.25,
        by_epoch=False,
        begin=0,
        end=1400),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[2800],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=20000),
    dict(
        type='MultiStepLR',
        milestones=[4200],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=20000),
]
default_hooks = dict(checkpoint=dict(interval=80))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
