# TRX's frames: the original loader (tobyperrett/trx video_reader.py), the
# one CLIP-M2DF's code reuses (_base_/pipelines/m2df.py): 8 frames evenly
# spaced between a start and an end jittered by up to 5 frames (train) /
# frames 1 .. n-2 (test); short side 256, random horizontal flip (every
# dataset, SSv2 included) and random 224 crop / centre crop.
_base_ = ['./m2df.py']
# ... and no normalisation: its frames are ToTensor's RGB in [0, 1]
# (ImageNet-ResNet configs; the CLIP configs keep CLIP's statistics).
trx_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[0.0, 0.0, 0.0],
    std=[255.0, 255.0, 255.0],
    format_shape='NCHW')
