# MoLo's ucf101 schedule (alibaba-mmai-research/MoLo
# configs/projects/MoLo/ucf101/MoLo_UCF101_{1,5}shot_v1.yaml SOLVER/TRAIN;
# docs/recipes.md), in episodes: the official run is 6,000 iterations
# (NUM_TRAIN_TASKS) of 4 GPUs x 1 episode = 24,000 episodes, an Adam step
# every 4 iterations (BATCH_SIZE_PER_TASK: 16 episodes). Its LR policy sees
# the "epoch" floor(i/S) + i/S (S = STEPS_ITER = 2,000 iterations = 8,000
# episodes), so with STEPS [0, 3, 6], LRS [1, 0.1, 0.01]: linear warm-up from
# WARMUP_START_LR 1e-05 to BASE_LR 5e-05 over the first 8,000 episodes, then
# x0.1 from episode 16,000. (STEPS [6]: reached after the last iteration,
# never applied.)
_base_ = ['./alibaba.py']
# The head as the yaml sets it (TRAIN); a recipe adds the shot-dependent
# and encoder-dependent keys: model = dict(cls_head=dict(_base_.head, ...)).
head = dict(
    type='MoLoHead',
    num_classes=70,  # TRAIN.NUM_CLASS
    positional_encoding=dict(
        type='ScaledPositionalEncoding',
        # no POSITION_A/B: the positional encoding's default
        a_scale=10.0,
        b_scale=1.0,
        max_len=20,
        dropout=0.1),
    loss_class=dict(
        type='CrossEntropyLoss',
        loss_weight=0.6),  # TRAIN.USE_CLASSIFICATION_VALUE
    # RECONS_COFF 0.05, not divided by BATCH_SIZE 4 as the other terms
    # are: 0.2 on the mean over episodes
    loss_recons=dict(
        type='MotionReconstructionLoss',
        loss_weight=0.2))
optim_wrapper = dict(optimizer=dict(lr=5e-05))
# validation and checkpoint every VAL_FRE_ITER = 100 iterations
train_cfg = dict(max_iters=24000, val_interval=400)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=False,
        begin=0,
        end=8000),
    # milestones count from `begin` (MMEngine): begin=0 makes them absolute;
    # one MultiStepLR per change (LRS ratios differ)
    dict(
        type='MultiStepLR',
        milestones=[16000],
        gamma=0.1,
        by_epoch=False,
        begin=0,
        end=24000),
]
default_hooks = dict(checkpoint=dict(interval=400))
randomness = dict(seed=18)  # RANDOM_SEED of the yaml
