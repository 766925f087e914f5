# Copyright (c) m2df_mmaction contributors.
from .base_few_shot_head import BaseFewShotHead, class_prototypes
from .otam_head import OTAMHead
from .protonet_head import ProtoNetHead

__all__ = ['BaseFewShotHead', 'class_prototypes', 'OTAMHead', 'ProtoNetHead']
