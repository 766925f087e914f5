# Mixing 3: M2DFHead on a non-CLIP visual backbone (MMAction2's ResNet-18,
# D = 512) with OpenCLIPText (tiny CLIP, D = 64) supplying the prompts.
# FewShotRecognizer reads embed_dims (512) from the ResNet's `feat_dim` and
# text_dims (64) from the text encoder; M2DFHead learns a 64 -> 512 text
# projection.
_base_ = ['../m2df_demo_5w1s.py']
model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, pretrained=None),
    cls_head=dict(fusion=dict(ffn_dims=1024)))
