# D2ST-Adapter, UCF101, 5-way 5-shot, ImageNet ResNet-50 frozen with
# D2ST adapters after its four stages: the official recipe
# (qizhongtan/D2ST-Adapter config/ucf101/ResNet_UCF101.yaml; docs/recipes.md). One run
# trains 1-shot (SUPPORT_SHOT 1) and is tested at 1 and 5 shots (TEST.SHOT
# [1, 5]): this config tests 5-shot.
_base_ = [
    '_base_/schedules/d2st_r50_ucf101.py',
    '_base_/datasets/ucf101_alibaba.py',
    '_base_/models/d2st_r50-in1k.py'
]
model = dict(cls_head=_base_.head)
# SUPPORT_SHOT 1 and QUERY_PER_CLASS 1 in training; 1 query per class in test
train_dataloader = dict(dataset=dict(num_shots=1, num_queries=1))
val_dataloader = dict(dataset=dict(num_shots=5))
test_dataloader = dict(dataset=dict(num_shots=5))
