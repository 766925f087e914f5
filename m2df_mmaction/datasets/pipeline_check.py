# Copyright (c) m2df_mmaction contributors.
"""Whether a dataset's pipeline gives a video the same tensor every time.

Features may be cached per video (``CachedEpisodicTestLoop``) only when the
pipeline is deterministic. Two checks, each naming what it found:

- by the transforms' own settings (:func:`find_random_transforms`): the
  frame samplers without ``test_mode``, ``Flip`` with a non-zero ratio,
  ``Random*`` and the other always-random transforms of MMAction2;
- by trying (:func:`pipeline_differs_across_seeds`): the pipeline runs on a
  video under different seeds of Python's, numpy's and torch's generators,
  which also catches custom transforms no list knows.
"""
import random
from typing import Callable, List, Sequence, Union

import numpy as np
import torch

__all__ = ['find_random_transforms', 'pipeline_differs_across_seeds']

# Transforms that draw random numbers whatever their arguments.
# (Plus every transform whose name starts with ``Random``.)
RANDOM_TRANSFORMS = frozenset({
    'MultiScaleCrop', 'ColorJitter', 'RandAugment', 'ImgAug',
    'PytorchVideoWrapper', 'TorchVisionWrapper', 'MultiGroupCrop'
})
# Frame samplers: random unless ``test_mode=True``.
FRAME_SAMPLERS = frozenset({
    'SampleFrames', 'UniformSample', 'UniformSampleFrames',
    'DenseSampleFrames', 'SampleAVAFrames', 'UntrimmedSampleFrames'
})


def _transform_name(transform: Union[dict, object]) -> str:
    if isinstance(transform, dict):
        kind = transform.get('type', '?')
        return kind if isinstance(kind, str) else kind.__name__
    return type(transform).__name__


def find_random_transforms(
        pipeline: Union[Sequence, object]) -> List[str]:
    """Name the transforms of a pipeline that make its output random.

    Checks built transforms (a ``Compose`` or a list) and transform configs
    alike, and nested transform lists (``transforms`` attributes/keys).

    Args:
        pipeline (Compose | Sequence[dict | BaseTransform]): The pipeline.

    Returns:
        list[str]: One readable reason per random transform; empty when the
        pipeline is deterministic.

    Examples:
        >>> find_random_transforms([
        ...     dict(type='SampleFrames', clip_len=1, num_clips=8),
        ...     dict(type='Flip', flip_ratio=0.5)])
        ['SampleFrames (test_mode=False)', 'Flip (flip_ratio=0.5)']
        >>> find_random_transforms([
        ...     dict(type='SampleFrames', num_clips=8, test_mode=True),
        ...     dict(type='Resize', scale=(224, 224))])
        []
    """
    transforms = getattr(pipeline, 'transforms', pipeline)
    if transforms is None:
        return []
    reasons = []
    for transform in transforms:
        name = _transform_name(transform)

        def arg(key, default=None, transform=transform):
            if isinstance(transform, dict):
                return transform.get(key, default)
            return getattr(transform, key, default)

        if name in RANDOM_TRANSFORMS or name.startswith('Random'):
            reasons.append(name)
        elif name == 'Flip' and (arg('flip_ratio', 0.5) or 0) > 0:
            reasons.append(f'Flip (flip_ratio={arg("flip_ratio", 0.5)})')
        elif (name in FRAME_SAMPLERS and not arg('test_mode', False)) or \
                arg('test_mode', True) is False:
            reasons.append(f'{name} (test_mode=False)')
        nested = arg('transforms')
        if isinstance(nested, (list, tuple)) or hasattr(nested, 'transforms'):
            reasons.extend(f'{name} > {reason}'
                           for reason in find_random_transforms(nested))
    return reasons


def pipeline_differs_across_seeds(load: Callable[[], torch.Tensor],
                                  seeds: Sequence[int] = (1, 2, 3)) -> bool:
    """Run ``load`` under several seeds; True if the outputs differ.

    The global generators are restored afterwards.

    Args:
        load (Callable): Returns the pipeline's tensor for one video.
        seeds (Sequence[int]): Seeds to try. Defaults to ``(1, 2, 3)``.

    Returns:
        bool: Whether any two runs gave different tensors.
    """
    outputs = []
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            for seed in seeds:
                random.seed(seed)
                np.random.seed(seed)
                torch.manual_seed(seed)
                outputs.append(load())
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return any(not torch.equal(outputs[0], other) for other in outputs[1:])
