# Copyright (c) m2df_mmaction contributors.
"""Probability Prompt Selector (PPS) of CLIP-M2DF.

A query video has no label, so its prompt is chosen from the episode's
class text embeddings by how well each class text matches the query's
best frames (method.md 1.3 a):

.. math::

    s_{q,k,t} &= \\cos(\\bar e_k, f_{q,t}) \\\\
    \\mathrm{score}_{q,k} &= \\mathrm{mean}(\\mathrm{top}_k\\,
    s_{q,k,\\cdot}) \\\\
    \\pi_q &= \\mathrm{softmax}_k(\\tau \\cdot \\mathrm{score}_{q,k})

and the prompt is the text embedding of a class drawn from :math:`\\pi_q`
(official), of the argmax class, or the mixture :math:`\\sum_k \\pi_{q,k}
\\bar e_k`.
"""
from typing import NamedTuple, Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .similarity import cos_sim

__all__ = ['ProbabilityPromptSelector', 'PromptSelection', 'topk_frames']

_MODES = ('sample', 'argmax', 'mixture', 'none')


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

    def forward(
            self,
            query: Tensor,
            text: Tensor,
            generator: Optional[torch.Generator] = None) -> PromptSelection:
        """Select prompts.

        Args:
            query (Tensor): Query frame features ``[B, NQ, T, D]``.
            text (Tensor): Class text embeddings ``[B, N, D]`` (class
                prototypes; with several shots per class, their mean).
            generator (torch.Generator, optional): RNG for ``'sample'``, so a
                caller can seed it per episode. It may live on another
                device than the inputs (a CPU generator gives the same draws
                on any device). None uses torch's global RNG.

        Returns:
            PromptSelection: ``prompt [B, NQ, D]``, ``probs [B, NQ, N]``,
            ``index [B, NQ]``.
        """
        mode = self.mode
        if not self.training and self.eval_mode is not None:
            mode = self.eval_mode
        probs = self.class_probs(query, text)
        if mode == 'sample':
            index = self._sample(probs, generator)
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

    @staticmethod
    def _sample(probs: Tensor, generator: Optional[torch.Generator]) -> Tensor:
        """One categorical draw per row of ``probs`` ``[B, NQ, N]``."""
        flat = probs.detach().reshape(-1, probs.size(-1))
        if generator is not None and generator.device != flat.device:
            flat = flat.to(generator.device)
        index = torch.multinomial(flat, 1, generator=generator)
        return index.to(probs.device).reshape(probs.shape[:-1])

    def extra_repr(self) -> str:
        return (f'top_k={self.top_k}, temperature={self.temperature}, '
                f'mode={self.mode!r}, eval_mode={self.eval_mode!r}')
