# What every benchmark schedule shares. Counts are EPISODES: one episode per
# iteration on one GPU. On G GPUs tools/train.py divides every count by the
# episodes per iteration and sets accumulative_counts so that an update
# still averages `episodes_per_update` episodes
# (m2df_mmaction.utils.scale_schedule; README "Train").
_base_ = ['../default_runtime.py']
# 16 episodes per Adam step in both official codes: CLIP-FSAR 4 GPUs x 4
# accumulated iterations, CLIP-M2DF 16 accumulated episodes.
episodes_per_update = 16
train_cfg = dict(type='EpisodicTrainLoop')
# exact and 1 backbone pass per distinct video (docs/benchmarks.md)
val_cfg = dict(type='CachedEpisodicValLoop')
test_cfg = dict(type='CachedEpisodicTestLoop')
optim_wrapper = dict(
    optimizer=dict(type='Adam', betas=(0.9, 0.999), eps=1e-8),
    accumulative_counts=episodes_per_update)
# `--auto-scale-lr` scales the LR by episodes_per_update / base_batch_size
# (an update is 16 episodes on any number of GPUs, so the factor is 1
# unless you change episodes_per_update).
auto_scale_lr = dict(enable=False, base_batch_size=episodes_per_update)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
