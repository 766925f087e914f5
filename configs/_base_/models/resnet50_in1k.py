# The encoder of the published TRX, HyRSM, HyRSM++ and MoLo numbers: an
# ImageNet ResNet-50 (torchvision weights), fine-tuned, BN in training mode
# (the official heads wrap torchvision.models.resnet50(pretrained=True)).
# MMAction2's ResNet loads torchvision's checkpoint under its own names
# (`torchvision://resnet50`: downloaded once into the torch hub cache;
# offline, copy resnet50-0676ba61.pth there or set `pretrained` to the
# file). Frames: layer4's 7x7 map averaged (D = 2048, read by
# FewShotRecognizer from `feat_dim`); `spatial`: that map (MoLo).
# Frames normalised with DATA.MEAN [0.45]*3 / DATA.STD [0.225]*3 of the
# Alibaba yamls (0-255 scale); TRX's configs replace it by its loader's
# plain ToTensor.
data_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[114.75, 114.75, 114.75],
    std=[57.375, 57.375, 57.375],
    format_shape='NCHW')
model = dict(
    type='FewShotRecognizer',
    backbone=dict(
        type='ResNet',
        depth=50,
        pretrained='torchvision://resnet50',
        norm_eval=False),
    text_encoder=None,
    data_preprocessor=data_preprocessor)
