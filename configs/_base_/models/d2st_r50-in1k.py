# D2ST-Adapter's ResNet (qizhongtan/D2ST-Adapter models/base/adapter.py
# ResNet; config ADAPTER: NAME ResNet, LAYERS 50, WIDTH 2048,
# ADAPTER_SCALE 0.25): torchvision's ImageNet ResNet-50 frozen, a D2ST
# adapter after each of its four stages (the official per-stage heads and
# kernels), BN in training mode (the official run calls model.train(): frozen
# BN parameters, batch statistics, running statistics updated), frames the
# mean of layer4's 7x7 map (2048-d). Trained: the adapters and the head's
# classifier (runs/train_net_few_shot.py L202). No text.
# Checkpoints keep the adapters and the BN statistics (save_trainable_only);
# loading one reads the frozen weights from `pretrained` (offline: copy
# resnet50-0676ba61.pth into the torch hub cache, or set `pretrained` to the
# file).
_base_ = ['./resnet50_in1k.py']
# DATA.MEAN [0.485, 0.456, 0.406] / DATA.STD [0.229, 0.224, 0.225] of the
# ResNet yamls (0-255 scale here)
data_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    format_shape='NCHW')
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetAdapted',
        depth=50,
        pretrained='torchvision://resnet50',
        num_frames=8,  # DATA.NUM_INPUT_FRAMES (the pipelines' 8 segments)
        adapter=dict(type='D2STResNetAdapter', scale=0.25),
        save_trainable_only=True),
    data_preprocessor=data_preprocessor)
