# TS-FSAR, Kinetics-100, 5-way 1-shot, CLIP ViT-B/16 frozen + a ladder side
# network: the official recipe (yaozhang0417/TS-FSAR
# configs/kinetics100/Metatrain_1shot.yaml for training, Metatest_1shot.yaml for
# the test fusion; docs/recipes.md). One GPU, an AdamW step per episode;
# the official run trains in fp16 autocast: add --amp.
_base_ = [
    '_base_/schedules/tsfsar.py', '_base_/datasets/kinetics100.py',
    '_base_/pipelines/ts_fsar.py', '_base_/models/tsfsar_vit-b16.py'
]
model = dict(
    # TRAIN.LLM_train_json / TEST.LLM_test_json: the official prompt files,
    # as they are (docs/data_preparation.md, "Class descriptions")
    text_encoder=dict(descriptions=[
        'data/kinetics100/prompts/Kinetics_train.json',
        'data/kinetics100/prompts/Kinetics_test.json'
    ]),
    cls_head=dict(
        type='TSFSARHead',
        num_classes=64,  # TRAIN.NUM_CLASSES
        dc_alpha=0.4,  # TRAIN.DC_ALPHA
        res_alpha=0.4,  # DATA.RES_ALPHA
        temp_clip=50.0,  # TEMP_CLIP
        temp_side=50.0,  # TEMP_SIDE
        dropout=0.7,  # LSN.DROPOUT
        loss_cls=dict(type='CrossEntropyLoss',
                      loss_weight=1.0),  # TRAIN.VIS_ALPHA
        loss_side_cls=dict(type='CrossEntropyLoss',
                           loss_weight=0.5),  # TRAIN.CLS_ALPHA
        loss_side_text=dict(
            type='CrossEntropyLoss',
            loss_weight=1.0),  # TRAIN.SIDE_CLS_ALPHA
        loss_clip_text=dict(type='CrossEntropyLoss',
                            loss_weight=6.0),  # TRAIN.KD_ALPHA
        loss_kd=dict(
            type='DistillKLLoss',
            temperature=10.0,  # TRAIN.KD_T
            loss_weight=6.0),  # TRAIN.KD_ALPHA
        # TEST.FUSE_VISION / FUSE_CLIP / FUSE_SIDE
        fuse=dict(vision=0.15, clip=0.8, side=0.05)))
# SOLVER.LSN_LR; LSNHEAD_LR, GENERATOR_LR and LSN_LR x ADAPTER_ALPHA as
# multiples of it
optim_wrapper = dict(
    optimizer=dict(lr=0.0002),
    paramwise_cfg=dict(
        custom_keys={
            'cls_head.classifier': dict(lr_mult=1.0),
            'cls_head.up_linear': dict(lr_mult=1.0),
            'cls_head.up_ln': dict(lr_mult=1.0),
            'cls_head.generator': dict(lr_mult=0.5),
            'cls_head.clip_adapter': dict(lr_mult=0.5),
        }))
# cosine_lr(optimizer, 0, NUM_TRAIN_TASKS) called after each episode with
# its index i: episode 0 trains at the base LR, episode j >= 1 at
# 0.5 (1 + cos(pi (j - 1) / 10000)) x base (begin=1)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=10000,
        eta_min=0.0,
        by_epoch=False,
        begin=1,
        end=10000)
]
# NUM_TRAIN_TASKS episodes; validation and a checkpoint every VAL_FRE_ITER
train_cfg = dict(max_iters=10000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500))
# 1-shot (TRAIN.SHOT, SHOT_TEST), 5 training queries per class
# (QUERY_PER_CLASS), 1 in test; AUGMENTATION.RANDOM_FLIP: flip supports and queries
train_dataloader = dict(
    dataset=dict(
        num_shots=1,
        num_queries=5,
        dataset=dict(pipeline=_base_.tsfsar_flip_train_pipeline),
        query_pipeline=None))
val_dataloader = dict(
    dataset=dict(
        num_shots=1, dataset=dict(pipeline=_base_.tsfsar_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        num_shots=1, dataset=dict(pipeline=_base_.tsfsar_test_pipeline)))
