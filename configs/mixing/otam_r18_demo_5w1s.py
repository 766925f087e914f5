# Mixing 2: FewShotRecognizer with MMAction2's stock 2D ResNet-18 (random
# init, 512-d frame features: [M, 512, 1, 1] maps at 32 px, average-pooled
# by the recognizer) and the OTAM head, on the synthetic benchmark.
_base_ = [
    '../_base_/schedules/demo_cpu.py', '../_base_/datasets/synthetic_5w1s.py',
    '../_base_/models/clip_preprocessor.py'
]
model = dict(
    type='FewShotRecognizer',
    backbone=dict(type='ResNet', depth=18, pretrained=None),
    cls_head=dict(type='OTAMHead'),
    data_preprocessor={{_base_.data_preprocessor}})
