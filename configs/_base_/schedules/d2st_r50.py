# What D2ST-Adapter's ResNet schedules share with its ViT ones (train loop,
# Adam, OPTIMIZER.WEIGHT_DECAY 1e-3 as 2.5e-4 on the mean loss: d2st.py),
# with the no-decay rule on the ResNet adapters' official names
# (models/utils/optimizer.py: names holding "bn", "norm", "embd",
# "cls_token" get no decay): ResNet_D2ST_Adapter wraps its s_ln / t_ln in
# LayerNormProxy ("Adapter_k.s_ln.norm.weight"), so unlike the ViT's they do
# not decay, nor do the offset LayerNorms ("….conv_offset.1.norm.*"). The
# frozen ResNet is not in the optimizer.
_base_ = ['./d2st.py']
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={{_base_.d2st_r50_no_decay}}))
