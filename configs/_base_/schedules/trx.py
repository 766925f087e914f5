# TRX's schedule: the original code's (tobyperrett/trx run.py argparse
# defaults and the README's SSv2 command; docs/recipes.md), the same on
# every dataset (the README leaves the others to the paper, which could not
# be read), in episodes.
_base_ = ['./episodic.py']
# SGD, lr 1e-3 (-lr 0.001), no momentum, no weight decay, every parameter
# (torch.optim.SGD(model.parameters(), lr)); --sch [1000000]: constant.
# An update every 16 episodes (--tasks_per_batch 16) on the summed
# cross-entropy / 16 (utils.loss sums over the queries).
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='SGD', lr=1e-3, momentum=0.0, weight_decay=0.0))
# 100,020 episodes (--training_iterations); tested at 75,000
# (--test_iters, on the test split; here the val split) and at the end.
train_cfg = dict(max_iters=100020, val_begin=75000, val_interval=75000)
default_hooks = dict(checkpoint=dict(interval=5000))  # --save_freq 5000
randomness = dict(seed=0)  # run.py sets no seed
# The head as run.py builds it (a recipe adds the encoder-dependent keys):
# --seq_len 8, --temp_set [2, 3]; --trans_linear_out_dim 1152,
# --trans_dropout 0.1 and the positional encoding x 0.1 are the head's
# defaults; utils.loss: cross-entropy summed over the queries.
head = dict(
    type='TRXHead',
    num_frames=8,
    cardinalities=(2, 3),
    loss_cls=dict(type='FewShotCrossEntropyLoss', reduction='sum'))
