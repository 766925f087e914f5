# Copyright (c) m2df_mmaction contributors.
"""The frozen text tower of an open_clip model, cached per class name."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from open_clip import CLIP, get_tokenizer

from .descriptions import ClassDescriptions
from ..open_clip_utils import (attach_open_clip_build,
                               build_open_clip_unloaded, load_pretrained_clip)

__all__ = ['OpenCLIPText']

# The parts of an open_clip ``CLIP`` that ``CLIP.encode_text`` reads.
_TEXT_MODULES = ('token_embedding', 'transformer', 'ln_final')
_TEXT_ATTRS = ('context_length', 'vocab_size', 'text_pool_type', 'text_eos_id')


@MODELS.register_module()
class OpenCLIPText(BaseModule):
    """Frozen CLIP text encoder that embeds class names.

    Each name is put into ``template``, tokenised with open_clip's tokenizer
    for ``arch`` and encoded once under ``torch.no_grad()`` with autocast
    off (the tower is frozen, so the embedding of a name never changes);
    later calls read the cache. The cache is a plain dict, not a buffer: it
    is not saved in checkpoints, entries follow the module's device and
    dtype when read, and loading a state dict clears it.

    The module keeps only the text tower (``token_embedding``,
    ``positional_embedding``, ``transformer``, ``ln_final``,
    ``text_projection`` and the ``attn_mask`` buffer) under open_clip's own
    key names, and the ``quick_gelu`` buffer (the activation it was built
    with). All parameters have ``requires_grad=False`` and the module
    stays in eval mode even when its parent calls ``.train()``.

    Args:
        arch (str): open_clip architecture, e.g. ``'ViT-B-16'`` or
            ``'TinyCLIP-ViT-32'``. The tokenizer of the built-in and tiny
            architectures works offline.
        pretrained (str, optional): ``None`` (random init), an open_clip
            tag or a local checkpoint file, as for :class:`OpenCLIPVisual`;
            loaded by :meth:`init_weights`. Defaults to None.
        template (str): Format string with one ``{}`` for the class name.
            Defaults to ``'a photo of {}'``.
        cache (bool): Cache the embedding of each class name.
            Defaults to True.
        descriptions (str | list[str], optional): JSON files of class
            descriptions (:class:`ClassDescriptions`, TS-FSAR's prompt
            format). A class is then embedded as the normalised mean of its
            sentences' normalised embeddings (TS-FSAR ``build_embeddings``)
            and ``template`` is not used; a class without a description is
            an error naming the files. The files are read when first
            needed (the training and cached test loops check every class of
            their splits before they start). Defaults to None (class names
            in ``template``).
        quick_gelu (bool, optional): See
            :func:`~m2df_mmaction.models.open_clip_utils.build_open_clip_model`.
            Defaults to None (decided from the weights, without loading
            them; kept in the state dict as the buffer ``quick_gelu``).
        cache_dir (str, optional): Download cache folder. Defaults to None.
        init_cfg (dict, optional): Unused; the weights are CLIP's.
            Defaults to None.

    Example:
        >>> from mmaction.registry import MODELS
        >>> import m2df_mmaction  # noqa: F401
        >>> text = MODELS.build(dict(type='OpenCLIPText',
        ...                          arch='TinyCLIP-ViT-32'))
        >>> text(['jumping', 'running']).shape
        torch.Size([2, 64])
    """

    #: State-dict entries that checkpoints saved before they existed lack;
    #: such checkpoints load with the module's own value (no error).
    optional_state_keys = ('quick_gelu', )

    def __init__(self,
                 arch: str,
                 pretrained: Optional[str] = None,
                 template: str = 'a photo of {}',
                 cache: bool = True,
                 descriptions: Optional[Union[str, Sequence[str]]] = None,
                 quick_gelu: Optional[bool] = None,
                 cache_dir: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if '{}' not in template:
            raise ValueError(f'template must contain "{{}}", got '
                             f'{template!r}.')
        self.arch = arch
        self.pretrained = pretrained
        self.template = template
        self.use_cache = cache
        # read when first needed (the loops check every split's classes
        # before they start), so that a config builds without the files
        self.description_files = descriptions
        self._descriptions: Optional[ClassDescriptions] = None
        self._cache: Dict[str, torch.Tensor] = {}

        # the architecture only: the weights load in init_weights()
        build = build_open_clip_unloaded(
            arch, pretrained, quick_gelu=quick_gelu, cache_dir=cache_dir)
        clip = build.clip
        if isinstance(clip, CLIP):
            # open_clip's CLIP keeps its text tower as attributes of the
            # whole model (no text submodule to take, unlike CustomTextCLIP)
            # and ``CLIP.encode_text`` reads exactly these attributes. We
            # take them, not the CLIP: its visual tower belongs to the
            # backbone (here it would be frozen and saved twice), and its
            # buffers would not follow ``.to(device)`` of this module.
            for name in _TEXT_MODULES:
                setattr(self, name, getattr(clip, name))
            self.positional_embedding = clip.positional_embedding
            self.text_projection = clip.text_projection
            for name in _TEXT_ATTRS:
                setattr(self, name, getattr(clip, name, None))
            self.register_buffer('attn_mask', clip.attn_mask, persistent=False)
            self.text = None
        else:  # CustomTextCLIP / CoCa keep their tower in ``.text``
            self.text = clip.text
        attach_open_clip_build(self, build)  # + the `quick_gelu` buffer
        del clip, build
        self.tokenizer = get_tokenizer(arch, cache_dir=cache_dir)

        self.requires_grad_(False)
        super().train(False)
        self.register_load_state_dict_post_hook(self._on_load_state_dict)

    def init_weights(self) -> None:
        """Load the ``pretrained`` weights (MMEngine calls it when training
        starts; a model built to load a checkpoint never does); without
        them keep open_clip's random init. Cached embeddings are dropped."""
        filename = load_pretrained_clip(self)
        MMLogger.get_current_instance().info(
            f'OpenCLIPText: weights of {self.arch} loaded from {filename} '
            f'(pretrained={self.pretrained!r}).' if filename else
            f'OpenCLIPText: no pretrained weights for {self.arch}: '
            "open_clip's random initialisation.")
        self.clear_cache()
        self._is_init = True

    def train(self, mode: bool = True) -> 'OpenCLIPText':
        """Stay in eval mode whatever ``mode`` is (the tower is frozen)."""
        return super().train(False)

    @property
    def descriptions(self) -> Optional[ClassDescriptions]:
        """The class descriptions (read from ``descriptions`` on first
        use), or None."""
        if self.description_files is not None and self._descriptions is None:
            self._descriptions = ClassDescriptions(self.description_files)
        return self._descriptions

    def clear_cache(self) -> None:
        """Forget all cached embeddings."""
        self._cache.clear()

    @staticmethod
    def _on_load_state_dict(module: 'OpenCLIPText', incompatible_keys):
        """New weights make cached embeddings stale."""
        module.clear_cache()

    @property
    def _reference(self) -> torch.Tensor:
        """A parameter whose device and dtype the outputs take."""
        return next(self.parameters())

    @torch.no_grad()
    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """Tokenise and encode full texts, without the cache.

        Args:
            texts (Sequence[str]): ``M`` texts (templates already applied).

        Returns:
            Tensor: Text embeddings ``[M, D]`` (not normalised), on the
            module's device and in its dtype.
        """
        ref = self._reference
        tokens = self.tokenizer(list(texts)).to(ref.device)
        with torch.autocast(device_type=ref.device.type, enabled=False):
            if self.text is not None:
                feats = self.text(tokens)
            else:
                # open_clip's own text forward, on the attributes taken
                # from the CLIP in __init__ (the same names it reads).
                feats = CLIP.encode_text(self, tokens)
        return feats.to(ref.dtype)

    def forward(
        self, class_names: Union[Sequence[str], Sequence[Sequence[str]]]
    ) -> torch.Tensor:
        """Embed class names.

        Args:
            class_names (Sequence[str] | Sequence[Sequence[str]]): ``N``
                class names, or ``B`` lists of ``N`` names (one per
                episode).

        Returns:
            Tensor: ``[N, D]`` for a flat list, ``[B, N, D]`` for nested
            lists; CLIP text embeddings (not normalised) without gradient,
            on the module's device and in its dtype.
        """
        if len(class_names) and not isinstance(class_names[0], str):
            return torch.stack([self.forward(names) for names in class_names])
        names = [str(name) for name in class_names]
        if not self.use_cache:
            return torch.cat([self._encode_one(n) for n in names]) \
                if names else self._reference.new_zeros((0, self.embed_dims))
        ref = self._reference
        for name in dict.fromkeys(names):
            if name not in self._cache:
                self._cache[name] = self._encode_one(name)[0]
        out: List[torch.Tensor] = []
        for name in names:
            feat = self._cache[name]
            if feat.device != ref.device or feat.dtype != ref.dtype:
                feat = self._cache[name] = feat.to(ref)
            out.append(feat)
        if not out:
            return ref.new_zeros((0, self.embed_dims))
        return torch.stack(out)

    def _encode_one(self, name: str) -> torch.Tensor:
        """``[1, D]`` embedding of one name.

        Names are encoded one at a time, so that a class's embedding does not
        depend, even in the last bits, on which other names shared its batch
        (matrix kernels block differently for different batch sizes): a
        resumed run then sees exactly the embeddings of the uninterrupted
        one. Each name is encoded once and cached.
        """
        if self.descriptions is None:
            return self.encode_text([self.template.format(name)])
        try:
            sentences = self.descriptions[name]
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        feats = F.normalize(self.encode_text(sentences).float(), dim=-1)
        return F.normalize(feats.mean(0, keepdim=True),
                           dim=-1).to(self._reference.dtype)

    @property
    def embed_dims(self) -> int:
        """CLIP's joint embedding size ``D``."""
        if self.text is not None:
            return int(self.text.output_dim)
        proj = self.text_projection
        if isinstance(proj, nn.Linear):
            return proj.out_features
        return int(proj.shape[-1])
