# D2ST-Adapter's SSv2-Full schedule, ResNet-50 variant
# (qizhongtan/D2ST-Adapter config/ssv2_full/ResNet_SSv2_full.yaml
# SOLVER/TRAIN; docs/recipes.md): the ViT yaml's schedule (d2st_ssv2_full.py:
# 240,000 episodes, warm-up over 12,000 from 0.2 x BASE_LR, LRS
# [1, 0.5, 0.1, 0.05] from episodes 48,000 / 72,000 / 96,000, val and
# checkpoint every 120,000) with BASE_LR 0.002 (WARMUP_START_LR 0.0004, the
# same 0.2), USE_CLASSIFICATION_VALUE 1.0 and the ResNet no-decay names.
_base_ = ['./d2st_ssv2_full.py']
head = dict(loss_video_cls=dict(loss_weight=1.0))  # USE_CLASSIFICATION_VALUE
optim_wrapper = dict(
    optimizer=dict(lr=0.002),  # SOLVER.BASE_LR
    paramwise_cfg=dict(custom_keys={{_base_.d2st_r50_no_decay}}))
