# Copyright (c) m2df_mmaction contributors.
"""One-call few-shot inference, as ``mmaction.apis.inference_recognizer``."""
from typing import List, Sequence, Union

import torch.nn as nn
from mmaction.structures import ActionDataSample

from .fewshot_inferencer import FewShotInferencer
from .support_set import SupportLike

__all__ = ['inference_fewshot_recognizer']


def inference_fewshot_recognizer(model: nn.Module,
                                 support: SupportLike,
                                 videos: Union[str, Sequence[str]],
                                 batch_size: int = 8
                                 ) -> List[ActionDataSample]:
    """Classify videos among the classes of a support set.

    The few-shot counterpart of :func:`mmaction.apis.inference_recognizer`:
    for repeated queries against the same support set, keep a
    :class:`FewShotInferencer` instead, which encodes the supports once.

    Args:
        model (FewShotRecognizer): Built by :func:`init_fewshot_recognizer`.
        support (SupportSet | dict | str): ``{class name: [clip paths]}`` or
            a folder with one sub-folder of clips per class.
        videos (str | Sequence[str]): Query clips.
        batch_size (int): Queries per batch. Defaults to 8.

    Returns:
        list[ActionDataSample]: One per video: ``pred_score`` ``[N]`` over
        the support classes (``metainfo['class_names']``), ``pred_label``
        and the head's distances and alignments (see
        :class:`FewShotInferencer`).
    """
    inferencer = FewShotInferencer(model, show_progress=False)
    inferencer.fit(support, batch_size=batch_size)
    return inferencer(
        videos, return_datasamples=True,
        batch_size=batch_size)['predictions']
