# CLIP-M2DF's schedule: the official run script (run_clip_fsar_decison_now.py
# argparse defaults; docs/method.md §1.4; docs/recipes.md), in episodes.
_base_ = ['./episodic.py']
# 20,020 episodes (--training_iterations), one Adam step per 16 episodes
# (--tasks_per_batch), validated at 14k/16k/18k/20k (--test_iters, which the
# official script evaluates on the test split; here the val split) and at
# the end.
train_cfg = dict(max_iters=20020, val_begin=14000, val_interval=2000)
# Adam, lr 1e-6 (--learning_rate; the second script _statics.py uses 1e-5),
# no weight decay, every parameter; constant (MultiStepLR milestone 1.6M
# with gamma 1: no scheduler at all).
optim_wrapper = dict(optimizer=dict(lr=1e-6, weight_decay=0.0))
default_hooks = dict(checkpoint=dict(interval=2000))
randomness = dict(seed=1896)  # manualSeed of the run script
