# Copyright (c) m2df_mmaction contributors.
"""Which CLIP architecture a weights file holds, told before building one.

open_clip loads a checkpoint of another architecture into a model only to
fail inside its conversions (``AssertionError: text pos_embed width
changed!``) or with a list of mismatched keys, and only after building the
requested model (seconds to minutes for a large one). Here the shapes of
the file's tensors (read memory-mapped, without loading them) give the
architecture it holds: the vision tower (ViT or ModifiedResNet, width,
layers, patch size), the text tower (width, layers, vocabulary, context
length) and the joint embedding size. :func:`check_weights_architecture`
compares that with the architecture a config asks for and refuses a
mismatch naming the file, both architectures and the fix.

What open_clip adapts by itself is not a mismatch: the image size of a ViT
and the text context length (position embeddings are resized). Files whose
layout is not open_clip's (timm or Hugging Face towers) are not judged.
"""
import os.path as osp
import pickle
from collections.abc import Mapping
from typing import Dict, List, Optional, Tuple

import open_clip
import torch

from .weights import (CheckpointMismatchError, _strip_prefixes,
                      _unwrap_state_dict, is_torchscript_archive)

__all__ = [
    'read_weight_shapes', 'describe_weights', 'describe_architecture',
    'architectures_like', 'summarize', 'check_weights_architecture'
]

Shapes = Dict[str, Tuple[int, ...]]
# Fields compared between a config and a file, in message order.
_COMPARED = ('vision tower', 'vision width', 'vision layers', 'patch size',
             'image size', 'text width', 'text layers', 'vocabulary',
             'embedding')


def read_weight_shapes(filename: str) -> Optional[Shapes]:
    """The tensor shapes of a weights file, without reading the tensors.

    Args:
        filename (str): A ``.safetensors`` file, or a state dict / training
            checkpoint saved by :func:`torch.save` (zip format, read
            memory-mapped).

    Returns:
        dict | None: ``{key: shape}`` with wrapper keys (``state_dict``,
        ``model``, ``module``) and ``module.`` / ``_orig_mod.`` prefixes
        removed; None for files read otherwise (TorchScript archives,
        legacy pickles), which are checked when loaded.
    """
    filename = str(filename)
    if filename.endswith('.safetensors'):
        from safetensors import safe_open
        with safe_open(filename, framework='pt') as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    if is_torchscript_archive(filename):
        return None
    try:
        checkpoint = torch.load(
            filename, map_location='cpu', weights_only=True, mmap=True)
    except (RuntimeError, pickle.UnpicklingError):
        return None  # legacy format, or refused: reported when loaded
    state_dict = _unwrap_state_dict(checkpoint)
    if not isinstance(state_dict, Mapping):
        return None
    state_dict = _strip_prefixes({
        k: v
        for k, v in state_dict.items() if isinstance(v, torch.Tensor)
    })
    return {k: tuple(v.shape) for k, v in state_dict.items()}


def _count_blocks(shapes: Shapes, prefix: str) -> int:
    """Distinct ``<prefix><i>.`` indices among the keys."""
    return len({
        k[len(prefix):].split('.', 1)[0]
        for k in shapes if k.startswith(prefix)
    })


def describe_weights(shapes: Shapes) -> Dict[str, object]:
    """The architecture a state dict of open_clip's layout holds.

    Args:
        shapes (dict): ``{key: shape}`` (:func:`read_weight_shapes`).

    Returns:
        dict: Some of ``vision tower``, ``vision width``, ``vision layers``
        (int, or a tuple of 4 for ModifiedResNet), ``patch size`` (ViT),
        ``image size`` (ModifiedResNet: its attention pool is not resized
        to another size, a ViT's position embedding is), ``text
        width``, ``text layers``, ``vocabulary``, ``context length`` and
        ``embedding``; the towers it cannot recognise are left out.
    """
    found: Dict[str, object] = {}
    if 'visual.conv1.weight' in shapes and \
            'visual.transformer.resblocks.0.ln_1.weight' in shapes:
        conv = shapes['visual.conv1.weight']
        found.update({
            'vision tower': 'ViT',
            'vision width': conv[0],
            'vision layers': _count_blocks(shapes,
                                           'visual.transformer.resblocks.'),
            'patch size': conv[-1]
        })
        if len(shapes.get('visual.proj', ())) == 2:
            found['embedding'] = shapes['visual.proj'][1]
    elif 'visual.layer1.0.conv1.weight' in shapes:
        found.update({
            'vision tower': 'ModifiedResNet',
            'vision width': shapes['visual.layer1.0.conv1.weight'][0],
            'vision layers': tuple(
                _count_blocks(shapes, f'visual.layer{i}.')
                for i in range(1, 5))
        })
        if 'visual.attnpool.c_proj.weight' in shapes:
            found['embedding'] = shapes['visual.attnpool.c_proj.weight'][0]
        # The attention pool's positions (not resized by open_clip, unlike
        # a ViT's): a grid of image_size / 32 squared, plus one.
        positions = shapes.get('visual.attnpool.positional_embedding', ())
        grid = round((positions[0] - 1)**0.5) if positions else 0
        if positions and grid * grid + 1 == positions[0]:
            found['image size'] = grid * 32
    for prefix in ('', 'text.'):
        if f'{prefix}token_embedding.weight' not in shapes:
            continue
        vocab, width = shapes[f'{prefix}token_embedding.weight']
        found.update({
            'text width': width,
            'text layers': _count_blocks(shapes,
                                         f'{prefix}transformer.resblocks.'),
            'vocabulary': vocab
        })
        positions = shapes.get(f'{prefix}positional_embedding', ())
        if len(positions) == 2:
            found['context length'] = positions[0]
        proj = shapes.get(f'{prefix}text_projection', ())
        if len(proj) == 2:
            found['embedding'] = proj[1]
        break
    return found


def describe_architecture(arch: str) -> Dict[str, object]:
    """What :func:`describe_weights` would find in weights of ``arch``.

    Args:
        arch (str): A registered open_clip architecture.

    Returns:
        dict: The same fields, from the architecture's config and
        open_clip's defaults; towers of timm or Hugging Face are left out.
    """
    cfg = open_clip.get_model_config(arch) or {}
    vision = dict(cfg.get('vision_cfg') or {})
    text = dict(cfg.get('text_cfg') or {})
    described: Dict[str, object] = {}
    if not vision.get('timm_model_name'):
        layers = vision.get('layers', 12)
        if isinstance(layers, (list, tuple)):
            image_size = vision.get('image_size', 224)
            described.update({
                'vision tower': 'ModifiedResNet',
                'vision width': vision.get('width', 64),
                'vision layers': tuple(layers),
                'image size': image_size if isinstance(image_size, int)
                else tuple(image_size)
            })
        else:
            described.update({
                'vision tower': 'ViT',
                'vision width': vision.get('width', 768),
                'vision layers': layers,
                'patch size': vision.get('patch_size', 16)
            })
    if not text.get('hf_model_name'):
        described.update({
            'text width': text.get('width', 512),
            'text layers': text.get('layers', 12),
            'vocabulary': text.get('vocab_size', 49408),
            'context length': text.get('context_length', 77)
        })
    if cfg.get('embed_dim') is not None:
        described['embedding'] = cfg['embed_dim']
    return described


def _value(value) -> str:
    if isinstance(value, tuple):
        return '-'.join(str(v) for v in value)
    return str(value)


def summarize(described: Dict[str, object]) -> str:
    """One readable line, e.g. ``vision ViT (width 128, 4 layers, patch
    8); text (width 64, 1 layers, vocabulary 49408, context 77);
    embedding 64``."""
    parts = []
    if 'vision tower' in described:
        vision = [f'width {described["vision width"]}',
                  f'layers {_value(described["vision layers"])}']
        if 'patch size' in described:
            vision.append(f'patch {described["patch size"]}')
        if 'image size' in described:
            vision.append(f'image {_value(described["image size"])}')
        parts.append(f'vision {described["vision tower"]} '
                     f'({", ".join(vision)})')
    if 'text width' in described:
        text = [f'width {described["text width"]}',
                f'layers {described["text layers"]}',
                f'vocabulary {described["vocabulary"]}']
        if 'context length' in described:
            text.append(f'context {described["context length"]}')
        parts.append(f'text ({", ".join(text)})')
    if 'embedding' in described:
        parts.append(f'embedding {described["embedding"]}')
    return '; '.join(parts) or 'not an open_clip CLIP layout'


def _differences(expected: Dict[str, object],
                 found: Dict[str, object]) -> List[str]:
    """The compared fields whose values differ."""
    return [
        key for key in _COMPARED
        if key in expected and key in found and expected[key] != found[key]
    ]


def architectures_like(found: Dict[str, object],
                       limit: int = 4) -> List[str]:
    """Registered open_clip architectures whose weights look like
    ``found`` (the fields :func:`check_weights_architecture` compares).

    Args:
        found (dict): :func:`describe_weights` of a file.
        limit (int): At most this many names. Defaults to 4.

    Returns:
        list[str]: Names, shortest first (``'RN50'`` before
        ``'RN50-quickgelu'``).
    """
    if 'vision tower' not in found or 'text width' not in found:
        return []
    names = [
        name for name in open_clip.list_models()
        if not _differences(describe_architecture(name), found)
        and describe_architecture(name).keys() >= set(
            k for k in _COMPARED if k in found)
    ]
    return sorted(names, key=lambda n: (len(n), n))[:limit]


def check_weights_architecture(arch: str,
                               filename: str,
                               meta: Optional[dict] = None) -> None:
    """Refuse, before building, weights of another architecture than
    ``arch``.

    Args:
        arch (str): The requested open_clip architecture (the ``arch`` of
            ``OpenCLIPVisual`` / ``OpenCLIPText``).
        filename (str): The local weights file.
        meta (dict, optional): Entries stored next to the weights; an
            ``arch`` entry that fits them is named as their architecture.
            Defaults to None.

    Raises:
        CheckpointMismatchError: Naming the file, the fields that differ,
            the architecture ``arch`` describes and the one found in the
            file (with the registered architectures that match it), and
            what to change.
    """
    shapes = read_weight_shapes(filename)
    if not shapes:
        return
    found = describe_weights(shapes)
    expected = describe_architecture(arch)
    differences = _differences(expected, found)
    if not differences:
        return
    saved = (meta or {}).get('arch')
    if isinstance(saved, str) and open_clip.get_model_config(saved) and \
            not _differences(describe_architecture(saved), found):
        like = [saved]
    else:
        like = architectures_like(found)
    holds = ' or '.join(repr(n) for n in like) if like else \
        'an architecture no registered open_clip config matches'
    fix = f'set arch={like[0]!r}' if like else \
        'register an open_clip config of that architecture and set arch ' \
        'to it'
    differ = differences[0] if len(differences) == 1 else \
        f'{", ".join(differences[:-1])} and {differences[-1]}'
    raise CheckpointMismatchError(
        f'The CLIP weights {filename} do not fit arch={arch!r} of the '
        f'config (different {differ}):\n'
        f'  {arch!r} (the config): {summarize(expected)}\n'
        f'  {osp.basename(filename)} holds {holds}: {summarize(found)}\n'
        f'To use these weights, {fix} for both OpenCLIPVisual and '
        'OpenCLIPText (model.backbone.arch and model.text_encoder.arch); to '
        f'keep {arch!r}, give weights of {arch!r} as pretrained (its '
        'open_clip tag, or a file saved from it).')
