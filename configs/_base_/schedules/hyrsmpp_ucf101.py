# HyRSM++'s ucf101 recipe (alibaba-mmai-research/HyRSMPlusPlus configs/projec
# ts/hyrsmplusplus/ucf101/HyRSMplusplus_UCF101_{1,5}shot_v1.yaml;
# docs/recipes.md): its SOLVER and TRAIN schedule values (NUM_TRAIN_TASKS,
# STEPS_ITER, VAL_FRE_ITER, BASE_LR, WARMUP_START_LR, STEPS, LRS,
# BATCH_SIZE_PER_TASK, RANDOM_SEED) are HyRSM's on this dataset, so the
# schedule is HyRSM's.
_base_ = ['./hyrsm_ucf101.py']
# HyRSM++'s head: HyRSM's with its own values and the temporal-coherence
# term
head = dict(
    relation=dict(
        # no POSITION_A/B: the positional encoding's default
        a_scale=10.0,
        b_scale=1.0),
    # WINDOW_SIZE, TEMPORAL_BALANCE, BALANCE_COEFFICIENT, TEMPORAL_LOSS_WEIGHT
    # (TEMPORAL_WEIGHT is read by no code)
    loss_temporal=dict(
        type='TemporalCoherenceLoss',
        window_size=3,
        temporal_balance=23.0,
        balance_coefficient=10.0,
        loss_weight=0.1),
    loss_frame_cls=dict(
        loss_weight=0.6))  # TRAIN.USE_CLASSIFICATION_VALUE
