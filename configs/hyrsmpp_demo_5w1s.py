# HyRSM++ on the built-in synthetic benchmark, tiny CLIP, CPU (see README):
# HyRSM plus the temporal-coherence regulariser with the SSv2 yamls' values
# (WINDOW_SIZE 1, TEMPORAL_BALANCE 51, BALANCE_COEFFICIENT 10,
# TEMPORAL_LOSS_WEIGHT 0.3; TEMPORAL_WEIGHT is read by no code).
_base_ = ['./hyrsm_demo_5w1s.py']
model = dict(
    cls_head=dict(
        loss_temporal=dict(
            type='TemporalCoherenceLoss',
            window_size=1,
            temporal_balance=51.0,
            balance_coefficient=10.0,
            loss_weight=0.3)))
