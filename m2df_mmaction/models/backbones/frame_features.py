# Copyright (c) m2df_mmaction contributors.
"""The encoder contract: which features of a flat batch of frames a visual
encoder gives, and the one function that gets them.

Feature kinds (:data:`FEATURE_KINDS`), for ``M`` frames:

- ``'frames'``: pooled per-frame embeddings ``[M, D]``, what
  ``FewShotRecognizer.encode_frames`` has always returned (bit-identical).
- ``'spatial'``: per-frame spatial maps ``[M, C, h, w]``: the tower's output
  with its global pooling left out (every per-location operation of the
  tower is applied, nothing that mixes locations).
- ``'tokens'``: the outputs of chosen intermediate layers, ``[M, L, C]``
  per layer, keyed by the layer index as requested.

An encoder *provides* a set of kinds. Encoders of this package declare it
themselves (the protocol below); stock MMAction2 2D backbones get what they
can from :func:`extract_frame_features`:

- ``frame_feature_kinds`` (frozenset of kind names) and
  ``frame_token_layers`` (int, how many layers ``'tokens'`` indices count;
  ``-n..n-1`` are valid),
- ``forward_frame_features(frames, request) -> FrameFeatures`` whose
  ``pooled`` is exactly ``encoder(frames)``,
- ``frame_feature_dims(request) -> dict`` (channels, no forward pass).

Stock MMAction2 backbones:

- ``mmaction.models.ResNet`` (and subclasses such as ``ResNetTSM``):
  ``'frames'`` (the spatial mean of the last output map, as
  ``encode_frames``), ``'spatial'`` (that map: the last of its
  ``out_indices``, by default ``layer4``) and ``'tokens'`` of any stage
  ``0..num_stages-1`` (its ``out_indices`` numbering: 0 is ``layer1``),
  read with forward hooks, so its own ``forward`` runs unchanged.
- MMAction2's ``VisionTransformer`` (``vit_mae.py``) is a video ViT: it
  embeds ``[B, C, T, H, W]`` clips with a 3D patch embedding and cannot
  take the ``[M, C, H, W]`` frames of a 2D recognizer, so it provides
  nothing here (use ``OpenCLIPVisual`` for a frame ViT).
- Any other 2D backbone: ``'frames'`` only, unless it implements the
  protocol.

With a ``neck``, ``pooled`` goes through it exactly as in
``encode_frames``; ``'spatial'`` is then refused (the map the neck returns
is no longer the backbone's), ``'tokens'`` still come from the backbone.
"""
from dataclasses import dataclass
from typing import (Dict, FrozenSet, Iterable, NamedTuple, Optional,
                    Sequence, Tuple)

import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.backbones import ResNet
from torch import Tensor

__all__ = [
    'FEATURE_KINDS', 'FrameFeatureRequest', 'FrameFeatures',
    'frame_feature_kinds', 'frame_feature_dims', 'check_frame_request',
    'extract_frame_features'
]

FEATURE_KINDS: Tuple[str, ...] = ('frames', 'spatial', 'tokens')


@dataclass(frozen=True)
class FrameFeatureRequest:
    """Which features to compute; pooled frames are always computed.

    Args:
        spatial (bool): Also per-frame spatial maps. Defaults to False.
        layers (tuple[int]): Layers whose tokens to return (the encoder's
            numbering, negative counts from the end). Defaults to ().

    Example:
        >>> FrameFeatureRequest.from_kinds(['frames', 'tokens'],
        ...                                layers=[-1]).kinds
        frozenset({'frames', 'tokens'})
    """
    spatial: bool = False
    layers: Tuple[int, ...] = ()

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not all(isinstance(i, int) and not isinstance(i, bool)
                   for i in layers):
            raise TypeError(f'FrameFeatureRequest.layers must be ints, got '
                            f'{self.layers!r}.')
        if len(set(layers)) != len(layers):
            raise ValueError(f'FrameFeatureRequest.layers has duplicates: '
                             f'{layers}.')
        object.__setattr__(self, 'layers', layers)

    @property
    def kinds(self) -> FrozenSet[str]:
        """frozenset[str]: The kinds this request asks for."""
        kinds = {'frames'}
        if self.spatial:
            kinds.add('spatial')
        if self.layers:
            kinds.add('tokens')
        return frozenset(kinds)

    @classmethod
    def from_kinds(cls,
                   kinds: Iterable[str],
                   layers: Sequence[int] = ()) -> 'FrameFeatureRequest':
        """A request from kind names, as a head declares them.

        Args:
            kinds (Iterable[str]): Names from :data:`FEATURE_KINDS`.
            layers (Sequence[int]): Token layers; needed iff ``'tokens'``
                is among ``kinds``.
        """
        kinds = set(kinds)
        unknown = kinds - set(FEATURE_KINDS)
        if unknown:
            raise ValueError(f'Unknown feature kind(s) {sorted(unknown)}; '
                             f'the kinds are {list(FEATURE_KINDS)}.')
        if ('tokens' in kinds) != bool(layers):
            raise ValueError(
                "'tokens' needs the layers to take them from, and layers "
                f"need 'tokens': got kinds {sorted(kinds)}, layers "
                f'{tuple(layers)}.')
        return cls(spatial='spatial' in kinds, layers=tuple(layers))


class FrameFeatures(NamedTuple):
    """Features of ``M`` frames.

    Attributes:
        pooled (Tensor): ``[M, D]``, as ``encode_frames`` returns.
        spatial (Tensor, optional): ``[M, C, h, w]`` if requested.
        tokens (dict[int, Tensor], optional): ``{layer: [M, L, C]}`` for
            the requested layers (keys as requested).
        grids (dict[int, tuple[int, int]], optional): ``{layer: (h, w)}``:
            the last ``h * w`` of a layer's ``L`` tokens are its patch or
            pixel grid, row-major; the ``L - h * w`` before them are prefix
            tokens (a ViT's class token).
    """
    pooled: Tensor
    spatial: Optional[Tensor] = None
    tokens: Optional[Dict[int, Tensor]] = None
    grids: Optional[Dict[int, Tuple[int, int]]] = None


def _encoder_name(backbone: nn.Module) -> str:
    arch = getattr(backbone, 'arch', None)
    depth = getattr(backbone, 'depth', None)
    detail = arch if isinstance(arch, str) else (
        f'depth {depth}' if isinstance(depth, int) else None)
    name = type(backbone).__name__
    return f'{name} ({detail})' if detail else name


def _token_layers(backbone: nn.Module) -> int:
    if hasattr(backbone, 'forward_frame_features'):
        return int(getattr(backbone, 'frame_token_layers', 0))
    if isinstance(backbone, ResNet):
        return len(backbone.res_layers)
    return 0


def frame_feature_kinds(backbone: nn.Module,
                        neck: Optional[nn.Module] = None) -> FrozenSet[str]:
    """The feature kinds ``backbone`` (followed by ``neck``) provides.

    Args:
        backbone (nn.Module): A frame encoder.
        neck (nn.Module, optional): The recognizer's neck. Defaults to None.

    Returns:
        frozenset[str]: A subset of :data:`FEATURE_KINDS`.
    """
    if hasattr(backbone, 'forward_frame_features'):
        kinds = set(backbone.frame_feature_kinds)
    elif isinstance(backbone, ResNet):
        kinds = set(FEATURE_KINDS)
    else:
        kinds = {'frames'}
    if neck is not None:
        kinds.discard('spatial')
    return frozenset(kinds)


def check_frame_request(backbone: nn.Module,
                        request: FrameFeatureRequest,
                        neck: Optional[nn.Module] = None,
                        requester: str = 'The request') -> None:
    """Raise one clear error if ``backbone`` cannot give ``request``.

    Cheap (no forward pass); call it when the model is built.

    Args:
        backbone (nn.Module): A frame encoder.
        request (FrameFeatureRequest): What is asked for.
        neck (nn.Module, optional): The recognizer's neck. Defaults to None.
        requester (str): Who asks, for the message (e.g. the head's class
            name). Defaults to 'The request'.

    Raises:
        ValueError: A kind the encoder does not provide, or a token layer
            out of its range.
    """
    provided = frame_feature_kinds(backbone, neck)
    missing = sorted(request.kinds - provided)
    if missing:
        why = ' (a neck is configured: spatial maps are only given without ' \
            'one)' if neck is not None and 'spatial' in missing else ''
        raise ValueError(
            f'{requester} needs {missing} features, which the encoder '
            f'{_encoder_name(backbone)} cannot provide{why}: it provides '
            f'{sorted(provided)}. Use an encoder that provides them (see '
            'm2df_mmaction/models/backbones/frame_features.py) or a head '
            'that needs less.')
    if request.layers:
        num = _token_layers(backbone)
        bad = [i for i in request.layers if not -num <= i < num]
        if bad:
            raise ValueError(
                f'{requester} asks for the tokens of layer(s) {bad}, but '
                f'the encoder {_encoder_name(backbone)} has {num} token '
                f'layers: valid indices are {-num}..{num - 1}.')


def frame_feature_dims(backbone: nn.Module,
                       request: FrameFeatureRequest,
                       neck: Optional[nn.Module] = None) -> Dict:
    """Channels of each requested kind, without a forward pass: what a
    head's ``embed_dims``-like arguments should be.

    Args:
        backbone (nn.Module): A frame encoder.
        request (FrameFeatureRequest): Checked with
            :func:`check_frame_request` first.
        neck (nn.Module, optional): The recognizer's neck. Defaults to None.

    Returns:
        dict: ``frames`` (``D`` of ``pooled``; None where unknown, e.g.
        after a neck), ``spatial`` (``C``, or None if not requested) and
        ``tokens`` (``{layer: C}``).
    """
    check_frame_request(backbone, request, neck)
    if hasattr(backbone, 'frame_feature_dims'):
        dims = dict(backbone.frame_feature_dims(request))
    elif isinstance(backbone, ResNet):
        stages = [
            backbone.block.expansion * 64 * 2**i
            for i in range(len(backbone.res_layers))
        ]
        last = stages[max(backbone.out_indices)]
        dims = dict(
            frames=last,
            spatial=last if request.spatial else None,
            tokens={layer: stages[layer] for layer in request.layers})
    else:
        dims = dict(
            frames=getattr(backbone, 'embed_dims', None),
            spatial=None,
            tokens={})
    if neck is not None:
        dims['frames'] = None
    return dims


def _pooled(out, neck: Optional[nn.Module]) -> Tensor:
    """``FewShotRecognizer.encode_frames`` after the backbone call."""
    feats = out
    if isinstance(feats, (tuple, list)):
        feats = feats[-1]
    if neck is not None:
        feats = neck(feats)
        if isinstance(feats, tuple):
            feats = feats[0]
    if feats.dim() == 4:  # [M, C, H, W] maps of a CNN/ViT backbone
        feats = F.adaptive_avg_pool2d(feats, 1)
    return feats.flatten(1)


def _stock_features(backbone: nn.Module, frames: Tensor,
                    request: FrameFeatureRequest,
                    neck: Optional[nn.Module]) -> FrameFeatures:
    """A stock 2D backbone's own forward, stage outputs read by hooks."""
    tokens, grids, handles = {}, {}, []
    if request.layers:  # only ResNets get here with layers (checked)
        num = len(backbone.res_layers)
        for layer in request.layers:
            stage = getattr(backbone, backbone.res_layers[layer % num])

            def keep(module, inputs, output, layer=layer):
                tokens[layer] = output.flatten(2).transpose(1, 2)
                grids[layer] = tuple(output.shape[-2:])

            handles.append(stage.register_forward_hook(keep))
    try:
        out = backbone(frames)
    finally:
        for handle in handles:
            handle.remove()
    spatial = None
    if request.spatial:
        spatial = out[-1] if isinstance(out, (tuple, list)) else out
        if spatial.dim() != 4:
            raise ValueError(
                f'{_encoder_name(backbone)} returned '
                f'{tuple(spatial.shape)}, not a [M, C, h, w] map.')
    return FrameFeatures(
        _pooled(out, neck), spatial, tokens or None, grids or None)


def extract_frame_features(backbone: nn.Module,
                           frames: Tensor,
                           request: Optional[FrameFeatureRequest] = None,
                           neck: Optional[nn.Module] = None,
                           requester: str = 'The request') -> FrameFeatures:
    """Features of a flat batch of frames: the entry point of the contract.

    ``pooled`` equals ``FewShotRecognizer.encode_frames(frames)`` exactly
    (same backbone call, same tuple/neck/pooling handling) for every
    backbone, whatever else is requested.

    Args:
        backbone (nn.Module): A frame encoder (see the module docstring).
        frames (Tensor): ``[M, C, H, W]``.
        request (FrameFeatureRequest, optional): Defaults to pooled frames
            only.
        neck (nn.Module, optional): The recognizer's neck. Defaults to None.
        requester (str): Who asks, for error messages.

    Returns:
        FrameFeatures: ``pooled [M, D]``; ``spatial [M, C, h, w]`` and
        ``tokens {layer: [M, L, C]}`` (with ``grids``) if requested.
    """
    request = request or FrameFeatureRequest()
    check_frame_request(backbone, request, neck, requester)
    if not hasattr(backbone, 'forward_frame_features'):
        return _stock_features(backbone, frames, request, neck)
    feats = backbone.forward_frame_features(frames, request)
    return feats._replace(pooled=_pooled(feats.pooled, neck))
