# A tiny randomly initialised CLIP (registered by m2df_mmaction) for tests and
# the CPU demo. Leaf configs add `cls_head`.
_base_ = ['./clip_preprocessor.py']
clip_arch = 'TinyCLIP-ViT-32'
model = dict(
    type='FewShotRecognizer',
    backbone=dict(type='OpenCLIPVisual', arch=clip_arch, pretrained=None),
    text_encoder=dict(type='OpenCLIPText', arch=clip_arch, pretrained=None),
    data_preprocessor={{_base_.data_preprocessor}})
