# Copyright (c) m2df_mmaction contributors.
from .mutual_distill import MutualDistillLoss, Reliability
from .video_text_loss import VideoTextLoss

__all__ = ['MutualDistillLoss', 'Reliability', 'VideoTextLoss']
