# TS-FSAR on the built-in synthetic benchmark, tiny CLIP, CPU (see README):
# the CLIP tower frozen and run without an autograd graph, a ladder side
# network of width 64 (one head, the official C // 64 rule) reading its 4
# blocks, temporal attention in side blocks 2 and 3 (the official 6, 8, 10
# of 12, scaled), PCA-initialised from the tower; TS-DCM matching, GLAC
# guidance and the fused test prediction with the SSv2-Full 1-shot weights
# (motion classes, like SSv2); classes embedded from several sentences
# each (m2df_mmaction/synthetic/class_descriptions.json: the captions of
# each class's motion with five subjects, written from the caption grammar
# by m2df_mmaction.synthetic.write_class_descriptions).
_base_ = [
    '_base_/schedules/demo_cpu.py', '_base_/datasets/synthetic_5w1s.py',
    '_base_/models/tiny_clip_fewshot.py'
]
model = dict(
    backbone=dict(
        type='OpenCLIPSide',
        num_frames=8,  # the pipeline's num_clips
        side=dict(
            type='LadderSideNetwork',
            embed_dims=64,
            temporal_layers=(2, 3),
            gate_init=0.0,
            gate_temperature=0.1),
        init_side='pca'),
    text_encoder=dict(
        descriptions=['m2df_mmaction/synthetic/class_descriptions.json']),
    cls_head=dict(
        type='TSFSARHead',
        num_classes=24,  # data/synthetic/train_classes.txt
        temp_clip=100.0,
        temp_side=100.0,
        res_alpha=1.6,
        loss_side_cls=dict(type='CrossEntropyLoss', loss_weight=2.0),
        loss_side_text=dict(type='CrossEntropyLoss', loss_weight=4.0),
        loss_clip_text=dict(type='CrossEntropyLoss', loss_weight=0.01),
        loss_kd=dict(type='DistillKLLoss', temperature=4.0, loss_weight=0.01),
        fuse=dict(vision=0.5, clip=0.1, side=0.4)))
