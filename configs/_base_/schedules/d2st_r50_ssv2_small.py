# D2ST-Adapter's SSv2-Small schedule, ResNet-50 variant
# (qizhongtan/D2ST-Adapter config/ssv2_small/ResNet_SSv2_small.yaml
# SOLVER/TRAIN; docs/recipes.md): the ViT yaml's schedule and head
# (d2st_ssv2_small.py: 80,000 episodes, warm-up over 4,000 from
# 0.2 x BASE_LR, LRS [1, 0.1, 0.05, 0.01] from episodes 16,000 / 24,000 /
# 32,000, val and checkpoint every 40,000, USE_CLASSIFICATION_VALUE 0.5) with
# BASE_LR 0.002 (WARMUP_START_LR 0.0004, the same 0.2) and the ResNet
# no-decay names.
_base_ = ['./d2st_ssv2_small.py']
optim_wrapper = dict(
    optimizer=dict(lr=0.002),  # SOLVER.BASE_LR
    paramwise_cfg=dict(custom_keys={{_base_.d2st_r50_no_decay}}))
