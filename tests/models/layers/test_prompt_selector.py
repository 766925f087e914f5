# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.layers import (ProbabilityPromptSelector,
                                         keyed_uniforms, topk_frames)
from m2df_mmaction.models.layers.prompt_selector import _inverse_cdf


def _episode(num_ways=5, num_queries=2, num_frames=8, dims=16, seed=0):
    """Queries whose frames point at their class text, plus noise frames."""
    gen = torch.Generator().manual_seed(seed)
    text = torch.randn(1, num_ways, dims, generator=gen)
    labels = torch.arange(num_ways).repeat_interleave(num_queries)
    query = torch.randn(1, labels.numel(), num_frames, dims, generator=gen)
    # Half of the frames (at least one) are the class text plus noise.
    informative = max(num_frames // 2, 1)
    query[0, :, :informative] = (
        3 * text[0, labels].unsqueeze(1) +
        0.3 * torch.randn(labels.numel(), informative, dims, generator=gen))
    return query, text, labels


@pytest.mark.parametrize('num_ways', [2, 5])
@pytest.mark.parametrize('num_frames', [4, 8])
@pytest.mark.parametrize('mode', ['sample', 'argmax', 'mixture'])
def test_selects_right_class(num_ways, num_frames, mode):
    query, text, labels = _episode(num_ways, num_frames=num_frames)
    selector = MODELS.build(dict(type='ProbabilityPromptSelector', mode=mode))
    out = selector(query, text, torch.tensor([0]))
    assert out.prompt.shape == (1, labels.numel(), 16)
    assert out.probs.shape == (1, labels.numel(), num_ways)
    assert out.index.shape == (1, labels.numel())
    assert torch.equal(out.probs.argmax(-1)[0], labels)
    torch.testing.assert_close(
        out.probs.sum(-1), torch.ones(1, labels.numel()))
    if mode != 'mixture':
        assert torch.equal(out.index[0], labels)  # peaked: draw = argmax
        torch.testing.assert_close(out.prompt[0], text[0, labels])
    else:
        expect = torch.einsum('qn,nd->qd', out.probs[0], text[0])
        torch.testing.assert_close(out.prompt[0], expect)


def test_score_is_topk_mean():
    selector = ProbabilityPromptSelector(top_k=2, temperature=1.0)
    text = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    # Frame cosines to class 0: 1, 0, 0.6 -> top-2 mean 0.8 (eps aside).
    query = torch.tensor([[[[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]]])
    probs = selector.class_probs(query, text)
    s0 = (1 / 1.01 + 0.6 / 1.01) / 2
    s1 = (1 / 1.01 + 0.8 / 1.01) / 2
    expect = torch.tensor([s0, s1]).softmax(-1)
    torch.testing.assert_close(probs[0, 0], expect)
    # top_k is clipped to T.
    big_k = ProbabilityPromptSelector(top_k=10, temperature=1.0)
    assert big_k.class_probs(query, text).shape == (1, 1, 2)


def test_sampling_reproducible_and_follows_probs():
    torch.manual_seed(0)
    query = torch.randn(1, 4000, 4, 8)
    text = torch.randn(1, 3, 8)
    selector = ProbabilityPromptSelector(temperature=5.0, mode='sample')
    keys = torch.tensor([7])
    first = selector(query, text, keys, seed=3)
    second = selector(query, text, keys, seed=3)
    other_key = selector(query, text, torch.tensor([8]), seed=3)
    other_seed = selector(query, text, keys, seed=4)
    assert torch.equal(first.index, second.index)
    assert torch.equal(first.prompt, second.prompt)
    assert not torch.equal(first.index, other_key.index)
    assert not torch.equal(first.index, other_seed.index)
    # Empirical class frequencies match the mean probabilities.
    freq = torch.bincount(first.index.flatten(), minlength=3).float() / 4000
    torch.testing.assert_close(freq, first.probs[0].mean(0), atol=0.03, rtol=0)
    # The sampled class is generally not the argmax at a low temperature.
    assert (first.index != first.probs.argmax(-1)).any()
    torch.testing.assert_close(first.prompt[0], text[0, first.index[0]])
    # Without keys: torch's global RNG.
    torch.manual_seed(5)
    unkeyed = selector(query, text).index
    torch.manual_seed(5)
    assert torch.equal(unkeyed, selector(query, text).index)


def test_keyed_draws_do_not_depend_on_the_batch():
    """An episode's draws are the same alone, in a batch, in any order."""
    torch.manual_seed(0)
    query = torch.randn(4, 6, 4, 8)
    text = torch.randn(4, 3, 8)
    selector = ProbabilityPromptSelector(temperature=1.0, mode='sample')
    keys = torch.tensor([11, 3, 2**40 + 5, 0])
    batch = selector(query, text, keys, seed=9).index
    for b in (3, 0, 2, 1):
        alone = selector(query[b:b + 1], text[b:b + 1], keys[b:b + 1], 9)
        assert torch.equal(alone.index[0], batch[b])
    order = torch.tensor([2, 0, 3, 1])
    shuffled = selector(query[order], text[order], keys[order], 9).index
    assert torch.equal(shuffled, batch[order])


def test_keyed_uniforms_are_uniform_and_exact():
    keys = torch.arange(20000)
    u = keyed_uniforms(keys, 5, seed=1)
    assert u.dtype == torch.float32 and u.shape == (20000, 5)
    assert (u >= 0).all() and (u < 1).all()
    # Multiples of 2**-24: exact in float32, so the same on every device.
    assert torch.equal(u * 2**24, (u * 2**24).round())
    # Mean and spread of U(0, 1); neighbouring keys and slots uncorrelated.
    assert abs(u.mean().item() - 0.5) < 0.005
    assert abs(u.var().item() - 1 / 12) < 0.002
    flat = u.flatten()
    assert abs(torch.corrcoef(torch.stack([flat[:-1], flat[1:]]))[0, 1]) \
        < 0.02
    hist = torch.histc(u, bins=10, min=0, max=1) / u.numel()
    assert (hist - 0.1).abs().max() < 0.01
    # A pure function of (seed, key, slot).
    assert torch.equal(u[1234], keyed_uniforms(torch.tensor([1234]), 5, 1)[0])
    assert not torch.equal(u, keyed_uniforms(keys, 5, seed=2))


def test_eval_mode_and_none():
    query, text, labels = _episode()
    selector = ProbabilityPromptSelector(mode='sample', eval_mode='none')
    assert selector.training
    assert selector(query, text).prompt.abs().sum() > 0
    selector.eval()
    out = selector(query, text)
    assert torch.equal(out.prompt, torch.zeros_like(out.prompt))
    assert torch.equal(out.index[0], labels)
    with pytest.raises(ValueError):
        ProbabilityPromptSelector(mode='soft')


def test_mixture_gradient_and_autocast():
    query, text, _ = _episode()
    query.requires_grad_(True)
    selector = ProbabilityPromptSelector(mode='mixture', temperature=10.0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = selector(query, text.bfloat16())
    assert out.probs.dtype == torch.float32
    assert out.prompt.dtype == torch.bfloat16
    out.prompt.float().sum().backward()
    assert torch.isfinite(query.grad).all()


def test_topk_frames_keeps_time_order():
    text = torch.tensor([[1.0, 0.0]])
    frames = torch.tensor([[[0.0, 1.0], [0.9, 0.1], [0.1, 0.9], [1.0, 0.0],
                            [0.5, 0.5]]])
    out = topk_frames(frames, text, k=3)
    torch.testing.assert_close(out, frames[:, [1, 3, 4]])
    assert topk_frames(frames, text, k=9).shape == (1, 5, 2)


def test_inverse_cdf_matches_random_choices_rule():
    """The draw is the first class whose cumulative probability exceeds
    ``u * total`` (Python's ``random.choices``, on float32 sums)."""
    import bisect
    probs = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    cum = probs[0].cumsum(0).tolist()  # float32 partial sums
    for u in (0.0, 0.05, 0.1, 0.29, 0.3, 0.31, 0.6, 0.99, 0.9999):
        target = (torch.tensor(u) * torch.tensor(cum[-1])).item()
        expected = bisect.bisect(cum, target, 0, 3)
        index = _inverse_cdf(probs, torch.tensor([u]))
        assert index.item() == expected, u
