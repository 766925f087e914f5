# Copyright (c) m2df_mmaction contributors.
from .base_few_shot_head import BaseFewShotHead, MatchView, class_prototypes
from .clip_fsar_head import CLIPFSARHead
from .d2st_head import D2STHead
from .hyrsm_head import HyRSMHead
from .m2df_head import M2DFHead
from .molo_head import MoLoHead
from .otam_head import OTAMHead
from .protonet_head import ProtoNetHead
from .trx_head import TRXHead
from .ts_fsar_head import FrameAttentionAdapter, TSFSARHead

__all__ = [
    'BaseFewShotHead', 'MatchView', 'class_prototypes', 'CLIPFSARHead',
    'M2DFHead', 'OTAMHead', 'ProtoNetHead', 'TRXHead', 'HyRSMHead', 'MoLoHead',
    'D2STHead', 'TSFSARHead', 'FrameAttentionAdapter'
]
