# Copyright (c) m2df_mmaction contributors.
from .bimhm import BiMHM, FrameMatches, bimhm_distance
from .cross_transformer import CrossTransformerFusion, PreNormCrossAttention
from .molo_decoder import MoLoMotionDecoder
from .molo_motion import MoLoMotionEncoder
from .molo_positional_encoding import (MoLoPositionalEncoding,
                                       scaled_sine_table)
from .otam import OTAM, otam_alignment, otam_distance, otam_distance_reference
from .prompt_selector import (ProbabilityPromptSelector, PromptSelection,
                              keyed_uniforms, topk_frames)
from .similarity import cos_sim, frame_distance, pairwise_cos_sim
from .temporal_context import (GlobalTemporalContext, LocalTemporalContext,
                               TemporalBlock)

__all__ = [
    'BiMHM', 'FrameMatches', 'bimhm_distance', 'OTAM', 'otam_alignment',
    'otam_distance', 'otam_distance_reference',
    'cos_sim', 'pairwise_cos_sim',
    'frame_distance', 'LocalTemporalContext', 'GlobalTemporalContext',
    'TemporalBlock', 'CrossTransformerFusion', 'PreNormCrossAttention',
    'ProbabilityPromptSelector', 'PromptSelection', 'keyed_uniforms',
    'topk_frames', 'MoLoMotionDecoder', 'MoLoMotionEncoder',
    'MoLoPositionalEncoding', 'scaled_sine_table'
]
