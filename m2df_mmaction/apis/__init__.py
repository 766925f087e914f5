# Copyright (c) m2df_mmaction contributors.
"""Few-shot inference on your own clips (not imported by the package).

``from m2df_mmaction.apis import FewShotInferencer`` (or
:func:`init_fewshot_recognizer` + :func:`inference_fewshot_recognizer`, as
``mmaction.apis``).
"""
from .alignment_figure import draw_query_alignment, frame_strip
from .clip_loader import ClipError, ClipLoader, clip_key, find_test_pipeline
from .fewshot_inferencer import FewShotInferencer, FittedSupport
from .inference import inference_fewshot_recognizer
from .model_init import (init_fewshot_recognizer, load_fewshot_config,
                         model_cfg_for_checkpoint)
from .query_episode import build_query_episode
from .support_set import VIDEO_EXTENSIONS, SupportSet, list_clips

__all__ = [
    'init_fewshot_recognizer', 'inference_fewshot_recognizer',
    'load_fewshot_config', 'model_cfg_for_checkpoint',
    'FewShotInferencer', 'FittedSupport',
    'SupportSet', 'VIDEO_EXTENSIONS', 'list_clips', 'ClipLoader',
    'ClipError', 'clip_key', 'find_test_pipeline', 'build_query_episode',
    'draw_query_alignment', 'frame_strip'
]
