# The switch to the official CLIP-M2DF code's numerics
# (run_clip_fsar_decison_now.py, the main run script; docs/recipes.md).
# A config of configs/official/ lists this file and applies the two
# variables below; everything else is the recipe of the default configs.
# The head: the official distillation and text token.
m2df_official_head = dict(
    # quirk kept: the text confidence comes from the first frame token
    text_token='first_frame',
    loss_distill=dict(
        type='MutualDistillLoss',
        conditions=('t', ),  # dist_condition [1, 0]: t-compare only
        direction='up2down',  # the global view teaches the local one
        detach_teacher=False,  # gradients through teacher and weights
        loss_weight=1.0))
# Frames as the official loader gives them: RGB in [0, 1], no CLIP mean/std
# (video_reader.py applies ToTensor only; docs/method.md §1.2).
m2df_official_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[0.0, 0.0, 0.0],
    std=[255.0, 255.0, 255.0],
    format_shape='NCHW')
