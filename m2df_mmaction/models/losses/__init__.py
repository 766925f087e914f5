# Copyright (c) m2df_mmaction contributors.
from .cross_entropy import FewShotCrossEntropyLoss
from .distill_kl import DistillKLLoss
from .long_short_contrastive import LongShortContrastiveLoss
from .motion_reconstruction import MotionReconstructionLoss
from .mutual_distill import MutualDistillLoss, Reliability
from .temporal_coherence import TemporalCoherenceLoss
from .video_text_loss import VideoTextLoss

__all__ = [
    'FewShotCrossEntropyLoss', 'MutualDistillLoss', 'Reliability',
    'VideoTextLoss', 'TemporalCoherenceLoss', 'LongShortContrastiveLoss',
    'MotionReconstructionLoss', 'DistillKLLoss'
]
