# Copyright (c) m2df_mmaction contributors.
"""Probability Prompt Selector (PPS) of CLIP-M2DF.

A query video has no label, so its prompt is chosen from the episode's
class text embeddings by how well each class text matches the query's
best frames (docs/method.md §1.3 a):

.. math::

    s_{q,k,t} &= \\cos(\\bar e_k, f_{q,t}) \\\\
    \\mathrm{score}_{q,k} &= \\mathrm{mean}(\\mathrm{top}_k\\,
    s_{q,k,\\cdot}) \\\\
    \\pi_q &= \\mathrm{softmax}_k(\\tau \\cdot \\mathrm{score}_{q,k})

and the prompt is the text embedding of a class drawn from :math:`\\pi_q`
(official), of the argmax class, or the mixture :math:`\\sum_k \\pi_{q,k}
\\bar e_k`.

Keyed draws. At test time the official code draws with Python's ``random``,
so its predictions depend on everything drawn before. Here a caller may give
each episode an integer *key* (e.g. ``(seed, episode index)``): the uniform
of query ``q`` of episode ``e`` is then a hash of ``(seed, e, q)``
(:func:`keyed_uniforms`), computed with integer tensor ops on the inputs'
device, and the class is found by inverting the cumulative probabilities.
A query's draw is then the same on any device, in any batch, in any order,
and costs no host synchronisation.
"""
from typing import NamedTuple, Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .similarity import cos_sim

__all__ = [
    'ProbabilityPromptSelector', 'PromptSelection', 'keyed_uniforms',
    'topk_frames'
]

_MODES = ('sample', 'argmax', 'mixture', 'none')
_MASK32 = 0xFFFFFFFF


def _mul32(x: Tensor, const: int) -> Tensor:
    """``x * const mod 2**32`` for int64 ``x`` in ``[0, 2**32)``.

    The constant is split into 16-bit halves so that no intermediate
    product exceeds ``2**49``: int64 never overflows, on any device.
    """
    low, high = const & 0xFFFF, const >> 16
    return (x * low + (((x * high) & 0xFFFF) << 16)) & _MASK32


def _hash32(x: Tensor) -> Tensor:
    """A 32-bit integer mixer (Wellons' "lowbias32") on int64 tensors."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def keyed_uniforms(keys: Tensor, num: int, seed: int = 0) -> Tensor:
    """Uniform numbers that are a pure function of ``(seed, key, j)``.

    Args:
        keys (Tensor): ``[B]`` integer keys (e.g. episode indices), on the
            device the result should live on.
        num (int): Numbers per key.
        seed (int): Seed mixed into every number. Defaults to 0.

    Returns:
        Tensor: ``[B, num]`` float32 in ``[0, 1)``, multiples of
        ``2**-24`` (exact in float32), bit-identical on every device.

    Example:
        >>> u = keyed_uniforms(torch.tensor([7, 8]), 3, seed=1)
        >>> u.shape, bool((u >= 0).all() and (u < 1).all())
        (torch.Size([2, 3]), True)
        >>> torch.equal(u[1], keyed_uniforms(torch.tensor([8]), 3, seed=1)[0])
        True
    """
    keys = keys.to(torch.int64).reshape(-1, 1)
    seed_hash = _hash32(torch.tensor(int(seed) & _MASK32, dtype=torch.int64))
    state = _hash32((keys & _MASK32) ^ seed_hash.to(keys.device))
    state = _hash32(state ^ ((keys >> 32) & _MASK32))
    index = torch.arange(num, device=keys.device, dtype=torch.int64)
    bits = _hash32(state ^ _hash32((index + 0x9E3779B9) & _MASK32))
    return (bits >> 8).to(torch.float32) * 2.0**-24


def _inverse_cdf(probs: Tensor, uniforms: Tensor) -> Tensor:
    """Class index whose cumulative-probability interval holds ``u``.

    As Python's ``random.choices``: the first ``k`` with
    ``u * total < cumsum_k``.

    Args:
        probs (Tensor): ``[..., N]``.
        uniforms (Tensor): ``[...]`` in ``[0, 1)``.

    Returns:
        Tensor: ``[...]`` long.
    """
    cum = probs.detach().cumsum(-1)
    target = uniforms.to(cum.dtype) * cum[..., -1]
    index = (cum <= target.unsqueeze(-1)).sum(-1)
    return index.clamp_max(probs.size(-1) - 1)


class PromptSelection(NamedTuple):
    """Output of :class:`ProbabilityPromptSelector`.

    Attributes:
        prompt (Tensor): Query prompts ``[B, NQ, D]`` in the text dtype
            (zeros for mode ``'none'``).
        probs (Tensor): Class probabilities :math:`\\pi` ``[B, NQ, N]``,
            float32 (float64 for float64 inputs).
        index (Tensor): Chosen class ``[B, NQ]`` (long): the sampled class
            for ``'sample'``, the argmax of :math:`\\pi` otherwise.
    """
    prompt: Tensor
    probs: Tensor
    index: Tensor


def _frame_text_scores(frames: Tensor, text: Tensor, eps: float) -> Tensor:
    """Cosine of every frame to every class text, in float32 or better.

    Args:
        frames (Tensor): ``[B, NQ, T, D]``.
        text (Tensor): ``[B, N, D]``.
        eps (float): See :func:`cos_sim`.

    Returns:
        Tensor: ``[B, NQ, N, T]``.
    """
    work = torch.promote_types(
        torch.promote_types(frames.dtype, text.dtype), torch.float32)
    # The temperature (200) magnifies low-precision errors: no autocast.
    with torch.autocast(device_type=frames.device.type, enabled=False):
        sim = cos_sim(text.to(work).unsqueeze(1), frames.to(work), eps)
    return sim  # [B, NQ, N, T]


def topk_frames(frames: Tensor,
                text: Tensor,
                k: int = 4,
                eps: float = 0.01) -> Tensor:
    """The ``k`` frames most similar to a text embedding, in time order.

    The official code feeds such frames (support: own class text; query:
    argmax class text) to the auxiliary video-text loss.

    Args:
        frames (Tensor): ``[..., T, D]``.
        text (Tensor): ``[..., D]``, one text embedding per video.
        k (int): Frames to keep, clipped to ``T``. Defaults to 4.
        eps (float): See :func:`cos_sim`. Defaults to 0.01.

    Returns:
        Tensor: ``[..., min(k, T), D]``.
    """
    work = torch.promote_types(frames.dtype, torch.float32)
    with torch.autocast(device_type=frames.device.type, enabled=False):
        sim = cos_sim(frames.to(work), text.to(work).unsqueeze(-2), eps)
    k = min(k, frames.size(-2))
    idx = sim.squeeze(-1).topk(k, dim=-1).indices.sort(-1).values
    return frames.gather(-2,
                         idx.unsqueeze(-1).expand(*idx.shape, frames.size(-1)))


@MODELS.register_module()
class ProbabilityPromptSelector(nn.Module):
    """Probability Prompt Selector: a text prompt for each query video.

    Args:
        top_k (int): Frames averaged into a class score, clipped to ``T``.
            Defaults to 4.
        temperature (float): Multiplier :math:`\\tau` of the scores before
            the softmax. Defaults to 200 (official).
        mode (str): ``'sample'`` (official: one categorical draw per query,
            in training and test), ``'argmax'``, ``'mixture'``
            (:math:`\\sum_k \\pi_k \\bar e_k`) or ``'none'`` (ablation
            ``is_pps=False``: zero prompt). Defaults to ``'sample'``.
        eval_mode (str, optional): Mode used when the module is in eval
            mode; None means ``mode``. Defaults to None.
        eps (float): Epsilon of :func:`cos_sim`. Defaults to 0.01.
    """

    def __init__(self,
                 top_k: int = 4,
                 temperature: float = 200.0,
                 mode: str = 'sample',
                 eval_mode: Optional[str] = None,
                 eps: float = 0.01) -> None:
        super().__init__()
        for name, value in (('mode', mode), ('eval_mode', eval_mode)):
            if value is not None and value not in _MODES:
                raise ValueError(f'{name} must be one of {_MODES}, '
                                 f'got {value!r}')
        if top_k < 1:
            raise ValueError(f'top_k must be >= 1, got {top_k}')
        self.top_k = top_k
        self.temperature = temperature
        self.mode = mode
        self.eval_mode = eval_mode
        self.eps = eps

    def class_probs(self, query: Tensor, text: Tensor) -> Tensor:
        """Class probabilities :math:`\\pi` of each query.

        Args:
            query (Tensor): Query frame features ``[B, NQ, T, D]``.
            text (Tensor): Class text embeddings ``[B, N, D]``.

        Returns:
            Tensor: ``[B, NQ, N]``, float32 (float64 for float64 inputs).
        """
        sim = _frame_text_scores(query, text, self.eps)
        k = min(self.top_k, sim.size(-1))
        score = sim.topk(k, dim=-1).values.mean(-1)
        return (self.temperature * score).softmax(-1)

    def forward(self,
                query: Tensor,
                text: Tensor,
                keys: Optional[Tensor] = None,
                seed: int = 0) -> PromptSelection:
        """Select prompts.

        Args:
            query (Tensor): Query frame features ``[B, NQ, T, D]``.
            text (Tensor): Class text embeddings ``[B, N, D]`` (class
                prototypes; with several shots per class, their mean).
            keys (Tensor, optional): ``[B]`` integer key of each episode for
                ``'sample'``: query ``q`` of episode ``b`` then draws with
                ``keyed_uniforms(keys, NQ, seed)[b, q]``, the same on any
                device and in any batch. None draws from torch's global RNG.
            seed (int): Seed of the keyed draws. Defaults to 0.

        Returns:
            PromptSelection: ``prompt [B, NQ, D]``, ``probs [B, NQ, N]``,
            ``index [B, NQ]``.
        """
        mode = self.mode
        if not self.training and self.eval_mode is not None:
            mode = self.eval_mode
        probs = self.class_probs(query, text)
        if mode == 'sample' and keys is not None:
            uniforms = keyed_uniforms(
                keys.to(probs.device), probs.size(1), seed)
            index = _inverse_cdf(probs, uniforms)
        elif mode == 'sample':
            index = torch.multinomial(
                probs.detach().reshape(-1, probs.size(-1)),
                1).reshape(probs.shape[:-1])
        else:
            index = probs.argmax(-1)
        if mode == 'none':
            prompt = text.new_zeros(*index.shape, text.size(-1))
        elif mode == 'mixture':
            prompt = torch.einsum('bqn,bnd->bqd', probs,
                                  text.to(probs.dtype)).to(text.dtype)
        else:
            prompt = text.gather(
                1,
                index.unsqueeze(-1).expand(*index.shape, text.size(-1)))
        return PromptSelection(prompt, probs, index)

    def extra_repr(self) -> str:
        return (f'top_k={self.top_k}, temperature={self.temperature}, '
                f'mode={self.mode!r}, eval_mode={self.eval_mode!r}')
