# What CLIP-FSAR's schedules share (docs/method.md §2.4; docs/recipes.md).
_base_ = ['./episodic.py']
# OPTIMIZER of finetune.yaml (read by construct_optimizer; the yamls' SOLVER
# weight decay is unused): Adam, weight decay 1e-3 (L2), none for parameters
# whose name contains "bn" or "norm" (BN.WEIGHT_DECAY 0).
optim_wrapper = dict(
    optimizer=dict(weight_decay=1e-3),
    paramwise_cfg=dict(custom_keys={
        'bn': dict(decay_mult=0.0),
        'norm': dict(decay_mult=0.0)
    }))
randomness = dict(seed=0)  # RANDOM_SEED of finetune.yaml
