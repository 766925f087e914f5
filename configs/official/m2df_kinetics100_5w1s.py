# CLIP-M2DF, Kinetics-100, 5-way 1-shot, CLIP RN50, with the official code's
# numerics (run_clip_fsar_decison_now.py; docs/recipes.md): the recipe of
# ../m2df_kinetics100_5w1s.py with _base_/models/m2df_official.py switched on:
# first-frame-token text confidence, t-compare only, global teaches local,
# undetached teacher, no CLIP normalisation.
_base_ = ['../m2df_kinetics100_5w1s.py', '../_base_/models/m2df_official.py']
model = dict(
    cls_head=_base_.m2df_official_head,
    data_preprocessor=_base_.m2df_official_preprocessor)
