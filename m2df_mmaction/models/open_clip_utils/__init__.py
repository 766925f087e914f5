# Copyright (c) m2df_mmaction contributors.
"""open_clip models for :class:`OpenCLIPVisual` and :class:`OpenCLIPText`.

- :mod:`.build`: the project's tiny architectures (every JSON file in
  ``models/open_clip_configs``, registered with
  :func:`open_clip.add_model_config` on import, so ``'TinyCLIP-ViT-32'``
  works wherever ``'ViT-B-16'`` does), :func:`build_open_clip_model`,
  :func:`build_open_clip_unloaded` (the encoders' ``__init__``: built,
  weights loaded later), :func:`resolve_quick_gelu` (the one QuickGELU
  decision) and :func:`shared_open_clip_builds` (one build for both
  encoders);
- :mod:`.encoder_weights`: the encoders' weights load in ``init_weights()``
  and their activation is kept in the state dict (``quick_gelu``);
- :mod:`.checkpoint_cfg`: :func:`model_cfg_for_checkpoint`, the one way to
  build a model that loads a checkpoint (``tools/test.py``, the inference
  API, the analysis tools): no pretrained weights read, the checkpoint's
  activation;
- :mod:`.pretrained`: ``None`` (random init), an open_clip tag (cached, or
  fetched if the hub can be reached; otherwise an immediate error that says
  what to download) or a local file; :func:`locate_pretrained` never
  touches the network;
- :mod:`.weights`: local weights in every common format, loaded strictly
  through :func:`open_clip.load_checkpoint` where it can read the file, and
  the QuickGELU decision;
- :mod:`.arch_check`: the architecture a weights file holds, read from its
  tensor shapes, and the refusal of another one before anything is built.
"""
from .arch_check import (check_weights_architecture, describe_architecture,
                         describe_weights, read_weight_shapes)
from .build import (OPEN_CLIP_CONFIG_DIR, OpenCLIPBuild,
                    PretrainedCLIPWeights, build_open_clip_model,
                    build_open_clip_unloaded, register_open_clip_configs,
                    resolve_quick_gelu, shared_open_clip_builds)
from .checkpoint_cfg import model_cfg_for_checkpoint
from .encoder_weights import (QUICK_GELU_KEY, attach_open_clip_build,
                              load_pretrained_clip, stored_quick_gelu)
from .pretrained import (PretrainedWeightsUnavailableError, locate_pretrained,
                         resolve_pretrained)
from .weights import (CheckpointMismatchError, decide_quick_gelu,
                      is_torchscript_archive, load_open_clip_weights,
                      read_checkpoint_meta, read_open_clip_checkpoint,
                      read_open_clip_state_dict)

__all__ = [
    'OPEN_CLIP_CONFIG_DIR', 'CheckpointMismatchError',
    'PretrainedWeightsUnavailableError', 'register_open_clip_configs',
    'resolve_pretrained', 'locate_pretrained', 'is_torchscript_archive',
    'decide_quick_gelu', 'resolve_quick_gelu', 'QUICK_GELU_KEY',
    'stored_quick_gelu', 'attach_open_clip_build', 'load_pretrained_clip',
    'OpenCLIPBuild', 'PretrainedCLIPWeights', 'build_open_clip_unloaded',
    'model_cfg_for_checkpoint',
    'read_checkpoint_meta', 'read_open_clip_checkpoint',
    'read_open_clip_state_dict', 'load_open_clip_weights',
    'build_open_clip_model', 'shared_open_clip_builds',
    'check_weights_architecture', 'describe_architecture',
    'describe_weights', 'read_weight_shapes'
]

register_open_clip_configs()
