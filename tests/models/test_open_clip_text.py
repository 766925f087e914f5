# Copyright (c) m2df_mmaction contributors.
"""OpenCLIPText: frozen, cached per class name, template, device/dtype."""
import open_clip
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

import m2df_mmaction  # noqa: F401
from m2df_mmaction.models import OpenCLIPText
from m2df_mmaction.models.open_clip_utils import build_open_clip_model

ARCH = 'TinyCLIP-ViT-32'


pytestmark = pytest.mark.usefixtures('one_thread')


def _build(**kwargs):
    cfg = dict(type='OpenCLIPText', arch=ARCH)
    cfg.update(kwargs)
    return MODELS.build(cfg)


class _CountCalls:
    """Wraps ``encode_text`` of a module and records the texts it gets."""

    def __init__(self, module):
        self.texts = []
        self._encode = module.encode_text
        module.encode_text = self

    def __call__(self, texts):
        self.texts.append(list(texts))
        return self._encode(texts)


def test_build_shapes_and_text_tower_only():
    torch.manual_seed(0)
    text = _build()
    assert isinstance(text, OpenCLIPText)
    assert text.embed_dims == 64
    out = text(['jumping', 'running', 'waving'])
    assert out.shape == (3, 64)
    assert text([['a', 'b'], ['c', 'd']]).shape == (2, 2, 64)
    keys = set(text.state_dict())
    assert not any(k.startswith('visual.') for k in keys)
    assert {
        'token_embedding.weight', 'positional_embedding', 'text_projection',
        'ln_final.weight'
    } <= keys
    clip_keys = set(build_open_clip_model(ARCH).state_dict())
    assert keys - {'quick_gelu'} <= clip_keys  # + the activation built
    assert 'attn_mask' in dict(text.named_buffers())  # not persistent


def test_frozen_eval_and_no_gradient():
    text = _build()
    assert all(not p.requires_grad for p in text.parameters())
    parent = nn.ModuleDict(dict(text=text, fc=nn.Linear(64, 2)))
    parent.train()
    assert not text.training
    assert not any(m.training for m in text.modules())
    feats = text(['a', 'b'])
    assert not feats.requires_grad
    parent['fc'](feats).sum().backward()
    assert parent['fc'].weight.grad is not None
    assert all(p.grad is None for p in text.parameters())


def test_cache_hits_do_not_recompute():
    text = _build()
    calls = _CountCalls(text)
    first = text(['dog', 'cat', 'dog'])
    # one name at a time, each once
    assert calls.texts == [['a photo of dog'], ['a photo of cat']]
    assert torch.equal(first[0], first[2])
    second = text(['cat', 'dog'])
    assert len(calls.texts) == 2  # all hits
    assert torch.equal(second, first[[1, 0]])
    assert text._cache['dog'] is text._cache['dog']
    text(['dog', 'bird'])
    assert calls.texts[-1] == ['a photo of bird']
    # cached tensors are not part of the checkpoint
    assert set(text.state_dict()) == set(_build().state_dict())

    uncached = _build(cache=False)
    calls = _CountCalls(uncached)
    uncached(['dog'])
    uncached(['dog'])
    assert len(calls.texts) == 2


def test_embedding_does_not_depend_on_its_batch():
    text = _build()
    alone = _build()
    alone.load_state_dict(text.state_dict())
    together = text(['dog', 'cat', 'bird', 'fish', 'ant'])
    assert torch.equal(together[3], alone(['fish'])[0])


def test_template_applied():
    text = _build(template='a video of {}.')
    tokenizer = open_clip.get_tokenizer(ARCH)
    assert torch.equal(text(['dog']), text.encode_text(['a video of dog.']))
    assert not torch.equal(text(['dog']), text.encode_text(['dog']))
    # the same as open_clip's own encode_text of the full CLIP
    clip = build_open_clip_model(ARCH)
    text.load_state_dict(clip.state_dict(), strict=False)
    clip.eval()
    with torch.no_grad():
        expected = clip.encode_text(tokenizer(['a video of dog.']))
    torch.testing.assert_close(text(['dog']), expected)
    with pytest.raises(ValueError, match='template'):
        _build(template='a photo')


def test_pretrained_file(tmp_path):
    torch.manual_seed(4)
    clip = build_open_clip_model(ARCH).eval()
    path = str(tmp_path / 'clip.pth')
    torch.save(clip.state_dict(), path)
    text = _build(pretrained=path, template='{}')
    text.init_weights()  # the weights load here
    with torch.no_grad():
        expected = clip.encode_text(open_clip.get_tokenizer(ARCH)(['dog']))
    torch.testing.assert_close(text(['dog']), expected)


def test_loading_weights_clears_cache():
    text = _build()
    before = text(['dog'])
    other = _build()  # other random weights
    text.load_state_dict(other.state_dict())
    assert not text._cache
    torch.testing.assert_close(text(['dog']), other(['dog']))
    assert not torch.equal(text(['dog']), before)


def test_cache_follows_dtype_and_autocast():
    text = _build()
    fp32 = text(['dog', 'cat'])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        in_autocast = text(['dog', 'fish'])
    assert in_autocast.dtype == torch.float32  # computed with autocast off
    torch.testing.assert_close(in_autocast[0], fp32[0])
    # a fresh name computed under autocast equals the fp32 computation
    torch.testing.assert_close(in_autocast[1],
                               text.encode_text(['a photo of fish'])[0])

    text.to(torch.float64)
    out = text(['dog', 'cat'])
    assert out.dtype == torch.float64
    assert text._cache['dog'].dtype == torch.float64
    torch.testing.assert_close(out.float(), fp32)
    assert text(['bird']).dtype == torch.float64
    assert text([]).shape == (0, 64)
