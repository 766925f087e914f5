# Copyright (c) m2df_mmaction contributors.
"""open_clip models for :class:`OpenCLIPVisual` and :class:`OpenCLIPText`.

- :mod:`.build`: the project's tiny architectures (every JSON file in
  ``models/open_clip_configs``, registered with
  :func:`open_clip.add_model_config` on import, so ``'TinyCLIP-ViT-32'``
  works wherever ``'ViT-B-16'`` does), :func:`build_open_clip_model` and
  :func:`shared_open_clip_builds` (one build for both encoders);
- :mod:`.pretrained`: ``None`` (random init), an open_clip tag (cached, or
  fetched if the hub can be reached; otherwise an immediate error that says
  what to download) or a local file;
- :mod:`.weights`: local weights in every common format, loaded strictly
  through :func:`open_clip.load_checkpoint` where it can read the file, and
  the QuickGELU decision;
- :mod:`.arch_check`: the architecture a weights file holds, read from its
  tensor shapes, and the refusal of another one before anything is built.
"""
from .arch_check import (check_weights_architecture, describe_architecture,
                         describe_weights, read_weight_shapes)
from .build import (OPEN_CLIP_CONFIG_DIR, build_open_clip_model,
                    register_open_clip_configs, shared_open_clip_builds)
from .pretrained import PretrainedWeightsUnavailableError, resolve_pretrained
from .weights import (CheckpointMismatchError, decide_quick_gelu,
                      is_torchscript_archive, load_open_clip_weights,
                      read_checkpoint_meta, read_open_clip_checkpoint,
                      read_open_clip_state_dict)

__all__ = [
    'OPEN_CLIP_CONFIG_DIR', 'CheckpointMismatchError',
    'PretrainedWeightsUnavailableError', 'register_open_clip_configs',
    'resolve_pretrained', 'is_torchscript_archive', 'decide_quick_gelu',
    'read_checkpoint_meta', 'read_open_clip_checkpoint',
    'read_open_clip_state_dict', 'load_open_clip_weights',
    'build_open_clip_model', 'shared_open_clip_builds',
    'check_weights_architecture', 'describe_architecture',
    'describe_weights', 'read_weight_shapes'
]

register_open_clip_configs()
