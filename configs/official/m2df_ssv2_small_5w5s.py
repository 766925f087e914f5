# CLIP-M2DF, SSv2-Small, 5-way 5-shot, CLIP RN50, with the official code's
# numerics (run_clip_fsar_decison_now.py; docs/recipes.md): the recipe of
# ../m2df_ssv2_small_5w5s.py with _base_/models/m2df_official.py switched on:
# first-frame-token text confidence, t-compare only, global teaches local,
# undetached teacher, no CLIP normalisation, flip on SSv2 too.
_base_ = ['../m2df_ssv2_small_5w5s.py', '../_base_/models/m2df_official.py']
model = dict(
    cls_head=_base_.m2df_official_head,
    data_preprocessor=_base_.m2df_official_preprocessor)
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=_base_.m2df_train_pipeline)))
