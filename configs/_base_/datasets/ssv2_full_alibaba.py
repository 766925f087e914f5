# SSv2-Full read as HyRSM, HyRSM++ and MoLo read it: the dataset of
# ssv2_full.py with the frames and augmentation of ../pipelines/alibaba.py
# (training queries augmented apart). A recipe sets the shots and queries.
_base_ = ['./ssv2_full.py', '../pipelines/alibaba.py']
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_train_pipeline),
        query_pipeline=_base_.alibaba_query_pipeline))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline)))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_base_.alibaba_test_pipeline)))
