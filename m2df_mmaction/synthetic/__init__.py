# Copyright (c) m2df_mmaction contributors.
"""Generators of the built-in synthetic data (demo and test data).

Not a dataset: these modules *write* videos and annotation files that
MMAction2's ``VideoDataset`` then reads like any other data, or draw
captioned clips for pretraining a tiny CLIP.

- :mod:`.programs`, :mod:`.video_params`, :mod:`.rendering`,
  :mod:`.video_io`: motion programs, per-video random state, drawing, mp4
  writing;
- :mod:`.motion_benchmark`: the few-shot benchmark (48 motion classes in
  time-reversal pairs, 24 / 8 / 16 train / val / test);
- :mod:`.compositions`, :mod:`.captions`: a grammar of motions and its
  captions (the benchmark's class names are phrases of it);
- :mod:`.captioned_world`: the captioned pretraining world, which never
  draws a class of the benchmark (:mod:`.motion_keys`: the motion keys it
  excludes; :mod:`.clip_rendering`: its frames, as a model samples them).

``TINY_CLIP_WORLD`` is the tiny CLIP (``TinyCLIP-ViT-32``) pretrained on the
captioned world by ``tools/pretrain_tiny_clip.py`` (``docs/tiny_clip.md``).
"""
import os.path as osp

from .captioned_world import (CaptionedWorld, WorldClip,
                              benchmark_compositions, write_world)
from .captions import (CLASS_TEMPLATE, caption, motion_phrase, parse_caption,
                       parse_motion_phrase)
from .compositions import Composition
from .descriptions import (CLASS_DESCRIPTIONS, class_descriptions,
                           write_class_descriptions)
from .motion_benchmark import (CLASS_CATALOGUE, SPLITS, MotionClass,
                               VideoParams, get_split_classes, object_states,
                               render_video, sample_video_params,
                               write_benchmark, write_video)

#: The shipped checkpoint of ``TinyCLIP-ViT-32`` pretrained on the world.
TINY_CLIP_WORLD = osp.join(
    osp.dirname(osp.abspath(__file__)), 'weights', 'tiny_clip_world.pth')

__all__ = [
    'MotionClass', 'SPLITS', 'CLASS_CATALOGUE', 'VideoParams',
    'get_split_classes', 'sample_video_params', 'object_states',
    'render_video', 'write_video', 'write_benchmark', 'Composition',
    'CLASS_TEMPLATE', 'caption', 'motion_phrase', 'parse_caption',
    'parse_motion_phrase', 'CaptionedWorld', 'WorldClip',
    'benchmark_compositions', 'write_world', 'TINY_CLIP_WORLD',
    'class_descriptions', 'write_class_descriptions', 'CLASS_DESCRIPTIONS'
]
