# What the HyRSM, HyRSM++ and MoLo schedules share: their train loop and
# optimizer (runs/train_net_few_shot.py, models/utils/optimizer.py and
# configs/pool/{base,run/training/finetune}.yaml of each repository, the
# same code in all three; docs/recipes.md).
_base_ = ['./episodic.py']
# 16 episodes per Adam step: NUM_GPUS 4 x BATCH_SIZE_PER_TASK 4 iterations
# of one episode per GPU (HyRSM on HMDB51: 8, its schedule file).
# construct_optimizer reads OPTIMIZER (finetune.yaml): Adam, L2 weight decay
# 1e-3 (the yamls' SOLVER.WEIGHT_DECAY is read by nothing), and none
# (BN.WEIGHT_DECAY 0; "embd"/"cls_token": 0) for parameters whose official
# name contains "bn", "norm", "embd" or "cls_token". The official names
# decide: the ResNet is an nn.Sequential of torchvision's children, so its
# stem BN is "backbone.1" and its downsample BNs "….downsample.1" — no "bn"
# in the name, they decay — while MMAction2's ResNet calls them
# "backbone.conv1.bn" and "….downsample.bn"; MoLo's decoder BNs are
# "up{1,2,3}.conv.double_conv.1" (decay) and here "decoder.convs.*.bn".
# MMEngine applies the longest matching key (tested against the official
# names in tests/utils/test_schedule.py).
optim_wrapper = dict(
    optimizer=dict(weight_decay=1e-3),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
            'embd': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'backbone.conv1.bn': dict(decay_mult=1.0),
            'downsample.bn': dict(decay_mult=1.0),
            'decoder.convs': dict(decay_mult=1.0),
        }))
