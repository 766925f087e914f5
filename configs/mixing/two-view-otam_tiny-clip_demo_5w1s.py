# Mixing 4: MutualDistillLoss in another two-view head: OTAM on frames and
# on frame differences (docs/examples/two_view_head.py), tiny CLIP frames.
_base_ = ['../otam_demo_5w1s.py']
custom_imports = dict(
    imports=['m2df_mmaction', 'docs.examples.two_view_head'],
    allow_failed_imports=False)
model = dict(
    cls_head=dict(
        _delete_=True,
        type='TwoViewOTAMHead',
        loss_distill=dict(
            type='MutualDistillLoss', conditions=('v', ), loss_weight=1.0)))
