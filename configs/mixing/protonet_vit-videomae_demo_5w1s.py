# Mixing 2: MMAction2's VisionTransformer with the ProtoNet head.
_base_ = ['./otam_vit-videomae_demo_5w1s.py']
model = dict(cls_head=dict(_delete_=True, type='ProtoNetHead'))
