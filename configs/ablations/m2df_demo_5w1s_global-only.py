# Ablation of CLIP-M2DF on the synthetic demo (global-only); same budget as
# configs/m2df_demo_5w1s.py.
_base_ = ['../m2df_demo_5w1s.py']
model = dict(cls_head=dict(views=['global']))
