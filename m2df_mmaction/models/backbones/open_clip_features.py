# Copyright (c) m2df_mmaction contributors.
"""Pooled, spatial and intermediate features of an open_clip visual tower
(:class:`OpenCLIPVisual`), its graph-free prefix run under ``no_grad``.

What each tower gives (:mod:`.frame_features` defines the kinds):

- ``VisionTransformer``: ``pooled`` ``[M, D]`` (the tower's output);
  ``spatial`` ``[M, D, h, w]``: the patch tokens of the last block after
  ``ln_post`` and ``proj`` (the class token left out), ``h = H / patch``;
  ``tokens`` of block ``i`` (``0..layers-1``, open_clip's
  ``forward_intermediates`` numbering): the block's raw output, class token
  first, ``[M, 1 + h*w, width]``.
- ``ModifiedResNet``: ``pooled`` ``[M, D]``; ``spatial`` the ``layer4`` map
  before ``attnpool``, ``[M, 32 * width, H/32, W/32]`` (2048 channels for
  RN50); ``tokens`` of stage ``i`` (0 the stem, 1..4 ``layer1..4``, again
  open_clip's numbering), flattened to ``[M, h*w, C]``.

Why these maps: a spatial map is the tower's output with its global pooling
left out. MoLo (official ``models/base/few_shot.py``, ``CNN_BiMHM_MoLo``)
takes a ResNet-50 without ``avgpool`` and ``fc``: the ``layer4`` map
``[*, 2048, 7, 7]``, pools it itself and builds its motion features from
it; STRM (official ``model.py``) takes the same map and max-pools it to
4 x 4 patches. ``attnpool`` mixes locations, so the ResNet map is taken
before it. A ViT's ``ln_post`` and ``proj`` act on each token alone
(pooling is only the choice of the class token), so the ViT map is taken
after them: the patch tokens then share the pooled embedding's space and
scale (``D`` channels, comparable with text), where the raw residual
stream is unnormalised (``ln_post`` is what normalises it for the pooled
embedding). A head that wants the raw stream asks for ``'tokens'`` of the
last block.

Frozen towers: the leading stages that need no autograd graph (no
parameter requiring grad, no forward hooks, an input not requiring grad)
run under ``torch.no_grad``; so does the head when the whole tower is
frozen. Autograd would record nothing for them either, so outputs and
gradients are those of ``forward``; ``no_grad`` makes it a guarantee and
skips the bookkeeping. A block holding a trainable adapter (as a
submodule, or through a hook) ends the prefix.

Why not open_clip's ``forward_intermediates``: it exists in this open_clip
(3.3) for both towers, but runs the whole tower in one call, so it cannot
run a frozen prefix without a graph, checkpoints a ResNet not at all and
returns no post-``ln_post`` patch tokens; the tests use it as the
reference for the tokens.
"""
from contextlib import nullcontext
from typing import Dict, FrozenSet, List, Sequence, Tuple

import torch
import torch.nn as nn
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch import Tensor
from torch.nn.modules import module as nn_module
from torch.utils.checkpoint import checkpoint

from .frame_features import FEATURE_KINDS, FrameFeatureRequest, FrameFeatures

__all__ = [
    'open_clip_feature_kinds', 'open_clip_token_layers',
    'open_clip_feature_dims', 'open_clip_frame_features'
]


def open_clip_feature_kinds(visual: nn.Module) -> FrozenSet[str]:
    """The feature kinds an open_clip visual tower provides."""
    if isinstance(visual, ModifiedResNet):
        return frozenset(FEATURE_KINDS)
    if not isinstance(visual, VisionTransformer):
        return frozenset({'frames'})
    if not isinstance(visual.patch_dropout, nn.Identity):
        return frozenset({'frames'})  # dropped patches: no grid
    kinds = {'frames', 'tokens'}
    if visual.attn_pool is None and not visual.final_ln_after_pool and \
            visual.pool_type in ('tok', 'avg'):
        kinds.add('spatial')  # ln_post + proj act per token
    return frozenset(kinds)


def open_clip_token_layers(visual: nn.Module) -> int:
    """How many layers ``'tokens'`` indices count."""
    if isinstance(visual, ModifiedResNet):
        return 5
    if isinstance(visual, VisionTransformer):
        return len(visual.transformer.resblocks)
    return 0


def open_clip_feature_dims(enc: nn.Module,
                           request: FrameFeatureRequest) -> Dict:
    """Channels of each requested kind (see
    :func:`~.frame_features.frame_feature_dims`)."""
    v = enc.visual
    dims = dict(frames=enc.embed_dims, spatial=None, tokens={})
    if isinstance(v, VisionTransformer):
        width = v.transformer.width
        if request.spatial:
            dims['spatial'] = v.proj.shape[1] if v.proj is not None \
                else width
        dims['tokens'] = {layer: width for layer in request.layers}
    elif isinstance(v, ModifiedResNet):
        stages = [v.bn3.num_features] + [
            layer[-1].bn3.num_features
            for layer in (v.layer1, v.layer2, v.layer3, v.layer4)
        ]
        if request.spatial:
            dims['spatial'] = stages[4]
        dims['tokens'] = {layer: stages[layer] for layer in request.layers}
    return dims


def _no_graph_needed(parts: Sequence) -> bool:
    """Whether a stage has no trainable parameter and no forward hook."""
    for part in parts:
        if part is None:
            continue
        if isinstance(part, nn.Parameter):
            if part.requires_grad:
                return False
            continue
        for m in part.modules():
            if m._forward_hooks or m._forward_pre_hooks or any(
                    p.requires_grad for p in m.parameters(recurse=False)):
                return False
    return True


def _graph_free_prefix(stages: List[Sequence], x: Tensor) -> int:
    """How many leading ``stages`` may run under ``no_grad``."""
    if not torch.is_grad_enabled() or x.requires_grad or \
            nn_module._global_forward_hooks or \
            nn_module._global_forward_pre_hooks:
        return 0
    count = 0
    for stage in stages:
        if not _no_graph_needed(stage):
            break
        count += 1
    return count


def _layer_index(request: FrameFeatureRequest,
                 num: int) -> Dict[int, List[int]]:
    """``{absolute index: [requested keys]}``."""
    index: Dict[int, List[int]] = {}
    for layer in request.layers:
        index.setdefault(layer % num, []).append(layer)
    return index


def _grad_mode(frozen: bool):
    return torch.no_grad() if frozen else nullcontext()


def _vit_features(enc: nn.Module, x: Tensor, request: FrameFeatureRequest,
                  use_cp: bool) -> FrameFeatures:
    """``VisionTransformer.forward``, stage by stage."""
    v = enc.visual
    stages = enc._stages() + [[v.ln_post, v.proj]]
    frozen = _graph_free_prefix(stages, x)
    grid = (x.shape[-2] // v.patch_size[0], x.shape[-1] // v.patch_size[1])
    take = _layer_index(request, len(v.transformer.resblocks))
    tokens, grids = {}, {}
    batch_first = v.transformer.batch_first
    with _grad_mode(frozen > 0):
        x = v._embeds(x)
        if not batch_first:
            x = x.transpose(0, 1).contiguous()  # NLD -> LND
    for i, blk in enumerate(v.transformer.resblocks):
        with _grad_mode(frozen > i + 1):
            if use_cp and frozen <= i + 1:  # as open_clip's Transformer
                x = checkpoint(blk, x, None, None, None, use_reentrant=False)
            else:
                x = blk(x, attn_mask=None)
        for key in take.get(i, ()):
            tokens[key] = x if batch_first else x.transpose(0, 1)
            grids[key] = grid
    if not batch_first:
        x = x.transpose(0, 1)  # LND -> NLD
    with _grad_mode(frozen == len(stages)):
        pooled, spatial = _vit_head(v, x, request.spatial, grid)
    return FrameFeatures(pooled, spatial, tokens or None, grids or None)


def _vit_head(v: VisionTransformer, x: Tensor, spatial: bool,
              grid: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """``VisionTransformer._pool`` + ``proj``, and the patch-token map."""
    if not spatial:
        pooled, _ = v._pool(x)
        return (pooled @ v.proj if v.proj is not None else pooled), None
    x = v.ln_post(x)  # _pool's branch without attn_pool/final_ln_after_pool
    pooled, _ = v._global_pool(x)
    patches = x[:, 1:]
    if v.proj is not None:
        pooled = pooled @ v.proj
        patches = patches @ v.proj
    maps = patches.reshape(x.shape[0], *grid, patches.shape[-1])
    return pooled, maps.permute(0, 3, 1, 2).contiguous()


def _resnet_features(enc: nn.Module, x: Tensor, request: FrameFeatureRequest,
                     use_cp: bool) -> FrameFeatures:
    """``ModifiedResNet.forward``, stage by stage, checkpointed as
    ``OpenCLIPVisual`` does."""
    from .open_clip_visual import _checkpointed  # it imports this module
    v = enc.visual
    stages = enc._stages() + [[v.attnpool]]
    frozen = _graph_free_prefix(stages, x)
    take = _layer_index(request, 5)
    tokens, grids = {}, {}
    layers = (v.layer1, v.layer2, v.layer3, v.layer4)
    for stage, parts in enumerate(stages[:5]):
        segments = [(v.stem, parts)] if stage == 0 else \
            [(block, list(block.modules())) for block in layers[stage - 1]]
        with _grad_mode(frozen > stage):
            for segment, modules in segments:
                if use_cp and frozen <= stage:
                    x = _checkpointed(segment, modules, x)
                else:
                    x = segment(x)
        for key in take.get(stage, ()):
            tokens[key] = x.flatten(2).transpose(1, 2)
            grids[key] = tuple(x.shape[-2:])
    with _grad_mode(frozen == len(stages)):
        pooled = v.attnpool(x)
    return FrameFeatures(pooled, x if request.spatial else None, tokens
                         or None, grids or None)


def open_clip_frame_features(enc: nn.Module, x: Tensor,
                             request: FrameFeatureRequest) -> FrameFeatures:
    """:meth:`OpenCLIPVisual.forward_frame_features`.

    Args:
        enc (OpenCLIPVisual): The encoder.
        x (Tensor): CLIP-normalised frames ``[M, 3, H, W]``.
        request (FrameFeatureRequest): Checked by the caller
            (:func:`~.frame_features.check_frame_request`).

    Returns:
        FrameFeatures: ``pooled`` bit-identical to ``enc(x)``.
    """
    use_cp = enc.with_cp and not enc.freeze_all and torch.is_grad_enabled()
    if isinstance(enc.visual, VisionTransformer):
        return _vit_features(enc, x, request, use_cp)
    if isinstance(enc.visual, ModifiedResNet):
        return _resnet_features(enc, x, request, use_cp)
    if request.spatial or request.layers:  # check_frame_request says so
        raise ValueError(f'{type(enc.visual).__name__} towers give pooled '
                         'frames only.')
    return FrameFeatures(enc(x))
