# Copyright (c) m2df_mmaction contributors.
from .alpha_dcov import AlphaDistanceCovariance
from .bimhm import BiMHM, FrameMatches, bimhm_distance
from .cross_transformer import CrossTransformerFusion, PreNormCrossAttention
from .hybrid_relation import HybridRelation, SetRelationAttention
from .ladder_side_network import (LadderSideNetwork, SideAttention,
                                  SideBlock)
from .molo_decoder import MoLoMotionDecoder
from .molo_motion import MoLoMotionEncoder
from .scaled_positional_encoding import (ScaledPositionalEncoding,
                                         scaled_sine_table)
from .otam import OTAM, otam_alignment, otam_distance, otam_distance_reference
from .prompt_selector import (ProbabilityPromptSelector, PromptSelection,
                              keyed_uniforms, topk_frames)
from .similarity import cos_sim, frame_distance, pairwise_cos_sim
from .temporal_context import (GlobalTemporalContext, LocalTemporalContext,
                               TemporalBlock)
from .temporal_cross_transformer import (TemporalCrossTransformer,
                                         sinusoid_table)

__all__ = [
    'BiMHM', 'FrameMatches', 'bimhm_distance', 'OTAM', 'otam_alignment',
    'otam_distance', 'otam_distance_reference',
    'cos_sim', 'pairwise_cos_sim',
    'frame_distance', 'LocalTemporalContext', 'GlobalTemporalContext',
    'TemporalBlock', 'CrossTransformerFusion', 'PreNormCrossAttention',
    'ProbabilityPromptSelector', 'PromptSelection', 'keyed_uniforms',
    'topk_frames', 'TemporalCrossTransformer', 'sinusoid_table',
    'HybridRelation', 'SetRelationAttention',
    'MoLoMotionDecoder', 'MoLoMotionEncoder', 'ScaledPositionalEncoding',
    'scaled_sine_table', 'AlphaDistanceCovariance', 'LadderSideNetwork',
    'SideAttention', 'SideBlock'
]
