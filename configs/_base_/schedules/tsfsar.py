# What the TS-FSAR schedules share: its train loop and optimizer
# (yaozhang0417/TS-FSAR main.py train_epoch, utils/optimizer.py
# construct_optimizer, utils/functions.py cosine_lr; docs/recipes.md).
# One GPU (NUM_GPUS 1), one episode per iteration and an AdamW step after
# every episode (BATCH_SIZE_PER_TASK 1); the official run uses fp16
# autocast with a GradScaler (train with --amp for the same).
_base_ = ['./episodic.py']
episodes_per_update = 1
# AdamW(eps=1e-6, weight_decay=SOLVER.WEIGHT_DECAY 0.1) on every parameter
# it trains (norms and gates included); betas PyTorch's default. The
# optimizer holds the parameters whose official names contain Linear,
# up_linear, up_ln (LSNHEAD_LR), generator (GENERATOR_LR), side (LSN_LR) or
# Adapter (LSN_LR x ADAPTER_ALPHA): here the head's classifier, up_* and
# generator, the encoder's side network and the head's clip_adapter; the
# frozen CLIP is not in it (TrainableOnlyOptimWrapperConstructor).
optim_wrapper = dict(
    constructor='TrainableOnlyOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', betas=(0.9, 0.999), eps=1e-6, weight_decay=0.1),
    accumulative_counts=episodes_per_update)
auto_scale_lr = dict(enable=False, base_batch_size=episodes_per_update)
randomness = dict(seed=0)  # TRAIN.RANDOM_SEED
