# Mixing 4: D2ST-Adapter's ResNet variant on the built-in synthetic
# benchmark, CPU: MMAction2's ResNet-18 (random weights here; the recipes
# load torchvision://resnet50) frozen, D2ST adapters after layer1-3, BN in
# training mode, D2STHead. At 32 px the stage grids are 8, 4, 2 and 1: the
# official kernels (written for 56..7 grids at 224 px) are shrunk, and the
# 1x1 grid of layer4 gets no adapter.
_base_ = ['../d2st_demo_5w1s.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetAdapted',
        depth=18,
        pretrained=None,
        num_frames=8,  # the pipeline's num_clips
        adapter_stages=(0, 1, 2),
        adapter=dict(
            type='D2STResNetAdapter',
            spatial_kernel=(4, 2, 2),
            spatial_stride=(4, 2, 2),
            temporal_kernel=(1, 2, 2),
            temporal_stride=(1, 2, 2))))
