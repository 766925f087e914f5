# What the D2ST-Adapter schedules share: its train loop and optimizer
# (qizhongtan/D2ST-Adapter runs/train_net_few_shot.py,
# models/utils/optimizer.py, config/base.yaml; docs/recipes.md).
_base_ = ['./episodic.py']
# 16 episodes per Adam step: NUM_GPUS 2 x BATCH_SIZE_PER_TASK 8 iterations
# of one episode per GPU (TRAIN.BATCH_SIZE 2 over 2 GPUs).
# The official step sees sum over 8 iterations of the DDP mean of
# loss / TRAIN.BATCH_SIZE (2): four times the mean loss of the 16 episodes,
# plus OPTIMIZER.WEIGHT_DECAY 1e-3 x theta (Adam's L2; construct_optimizer
# reads OPTIMIZER, not SOLVER). Adam ignores the gradient's scale but not
# the L2 term added to it, so the same update is the mean loss (as here)
# with 1e-3 / 4 = 2.5e-4.
# No decay (BN.WEIGHT_DECAY 0, "embd"/"cls_token": 0) for parameters whose
# official name contains "bn", "norm", "embd" or "cls_token": of the
# trained ones only the adapters' offset LayerNorms
# ("….conv_offset.1.norm.*" officially, "….conv_offset.1.*" here); the
# adapters' s_ln / t_ln, ln_post and the embeddings decay, as officially.
# Frozen parameters are not in the optimizer (MMEngine skips parameters
# without grad when paramwise_cfg is set).
optim_wrapper = dict(
    optimizer=dict(weight_decay=2.5e-4),
    paramwise_cfg=dict(custom_keys={'conv_offset.1': dict(decay_mult=0.0)}))
# The ResNet variant's no-decay names (d2st_r50.py): its adapters wrap s_ln /
# t_ln in LayerNormProxy ("Adapter_k.s_ln.norm.weight"), which the name
# rule exempts too.
d2st_r50_no_decay = {
    'conv_offset.1': dict(decay_mult=0.0),
    's_ln': dict(decay_mult=0.0),
    't_ln': dict(decay_mult=0.0)
}
