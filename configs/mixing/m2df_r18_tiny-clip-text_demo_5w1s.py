# Mixing 3: M2DFHead on a non-CLIP visual backbone (MMAction2's ResNet-18,
# D = 512) with OpenCLIPText (tiny CLIP, D = 64) supplying the prompts.
# ResNet has no `embed_dim`, so the head's embed_dims is set here; text_dims
# (64) comes from the text encoder and M2DFHead learns a 64 -> 512 projection.
_base_ = ['../m2df_demo_5w1s.py']
model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, pretrained=None),
    cls_head=dict(embed_dims=512, fusion=dict(ffn_dims=1024)))
