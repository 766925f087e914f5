# HyRSM++'s ssv2_small recipe (alibaba-mmai-research/HyRSMPlusPlus configs/pr
# ojects/hyrsmplusplus/ssv2_small/HyRSMplusplus_SSv2_Small_{1,5}shot_v1.yaml;
# docs/recipes.md): its SOLVER and TRAIN schedule values (NUM_TRAIN_TASKS,
# STEPS_ITER, VAL_FRE_ITER, BASE_LR, WARMUP_START_LR, STEPS, LRS,
# BATCH_SIZE_PER_TASK, RANDOM_SEED) are HyRSM's on this dataset, so the
# schedule is HyRSM's.
_base_ = ['./hyrsm_ssv2_small.py']
# HyRSM++'s head: HyRSM's with its own values and the temporal-coherence
# term
head = dict(
    relation=dict(
        a_scale=10.0,  # TRAIN.POSITION_A
        b_scale=1.0),  # TRAIN.POSITION_B
    # WINDOW_SIZE, TEMPORAL_BALANCE, BALANCE_COEFFICIENT, TEMPORAL_LOSS_WEIGHT
    # (TEMPORAL_WEIGHT is read by no code)
    loss_temporal=dict(
        type='TemporalCoherenceLoss',
        window_size=3,
        temporal_balance=23.0,
        balance_coefficient=10.0,
        loss_weight=0.3),
    loss_frame_cls=dict(
        loss_weight=0.2))  # TRAIN.USE_CLASSIFICATION_VALUE
