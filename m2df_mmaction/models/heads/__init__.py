# Copyright (c) m2df_mmaction contributors.
from .base_few_shot_head import BaseFewShotHead, MatchView, class_prototypes
from .clip_fsar_head import CLIPFSARHead
from .m2df_head import M2DFHead
from .molo_head import MoLoHead
from .otam_head import OTAMHead
from .protonet_head import ProtoNetHead

__all__ = [
    'BaseFewShotHead', 'MatchView', 'class_prototypes', 'CLIPFSARHead',
    'M2DFHead', 'OTAMHead', 'ProtoNetHead', 'MoLoHead'
]
