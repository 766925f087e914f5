# HyRSM's ssv2_full schedule (alibaba-mmai-research/HyRSM
# configs/projects/hyrsm/ssv2_full/HyRSM_SSv2_Full_{1,5}shot_v1.yaml
# SOLVER/TRAIN; docs/recipes.md), in episodes: the official run is 40,000
# iterations (NUM_TRAIN_TASKS) of 4 GPUs x 1 episode = 160,000 episodes, an
# Adam step every 4 iterations (BATCH_SIZE_PER_TASK: 16 episodes). Its LR
# policy sees the "epoch" floor(i/S) + i/S (S = STEPS_ITER = 3,000 iterations
# = 12,000 episodes), so with STEPS [0, 6, 9], LRS [1, 0.1, 0.01]: linear
# warm-up from WARMUP_START_LR 2e-05 to BASE_LR 0.0001 over the first 12,000
# episodes, then x0.1 from episode 36,000, x0.01 from episode 60,000.
_base_ = ['./alibaba.py']
# The head as the yaml sets it (TRAIN); a recipe adds the shot-dependent
# and encoder-dependent keys: model = dict(cls_head=dict(_base_.head, ...)).
head = dict(
    type='HyRSMHead',
    num_classes=64,  # TRAIN.NUM_CLASS
    relation=dict(
        type='HybridRelation',
        # no POSITION_A/B: the positional encoding's default
        a_scale=10.0,
        b_scale=1.0),
    loss_frame_cls=dict(
        type='CrossEntropyLoss',
        loss_weight=0.6))  # TRAIN.USE_CLASSIFICATION_VALUE
optim_wrapper = dict(optimizer=dict(lr=0.0001))
# validation and checkpoint every VAL_FRE_ITER = 1000 iterations
train_cfg = dict(max_iters=160000, val_interval=4000)
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
        milestones=[36000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=160000),
    dict(
        type='MultiStepLR',
        milestones=[60000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=160000),
]
default_hooks = dict(checkpoint=dict(interval=4000))
randomness = dict(seed=0)  # RANDOM_SEED of the yaml
