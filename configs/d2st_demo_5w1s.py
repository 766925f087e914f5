# D2ST-Adapter on the built-in synthetic benchmark, tiny CLIP, CPU (see
# README): the CLIP tower frozen, D2ST adapters after every block, a
# temporal embedding, the class token before the projection; mean
# prototypes, Bi-MHM and the video classifier over the 24 training classes
# with the ViT yamls' weight 2 (USE_CLASSIFICATION_VALUE). Trainable as
# officially: adapters, temporal embedding, class embedding, ln_post and
# the classifier.
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
model = dict(
    text_encoder=None,
    backbone=dict(
        type='OpenCLIPAdapted',
        num_frames=8,  # the pipeline's num_clips
        # the official kernels are written for 14x14 grids; the tiny CLIP's
        # is 4x4: the spatial attention samples 2x3x3 points (official
        # 2x4x4), the temporal one 8x2x2 (as officially)
        adapter=dict(
            type='D2STAdapter',
            spatial_kernel=(4, 2, 2),
            spatial_stride=(4, 1, 1),
            temporal_kernel=(1, 2, 2),
            temporal_stride=(1, 2, 2)),
        temporal_embedding=True,
        trainable=('class_embedding', 'ln_post'),
        project=False),
    # A learnable logit scale from 10, as the other demos; D2ST has none
    cls_head=dict(
        type='D2STHead',
        num_classes=24,  # data/synthetic/train_classes.txt
        loss_video_cls=dict(type='CrossEntropyLoss', loss_weight=2.0),
        init_scale=10.0,
        learnable_scale=True))
