# Mixing 2: MMAction2's ResNet-18 with the ProtoNet head.
_base_ = ['./otam_r18_demo_5w1s.py']
model = dict(cls_head=dict(_delete_=True, type='ProtoNetHead'))
