# Copyright (c) m2df_mmaction contributors.
"""TS-FSAR's parts on the tiny CLIP: the frozen tower runs without a graph,
only the side network and the head train, class descriptions and their
errors, the shipped synthetic descriptions."""
import json

import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.backbones import FrameFeatureRequest
from m2df_mmaction.models.text import check_described
from m2df_mmaction.synthetic import CLASS_DESCRIPTIONS, class_descriptions


def side_encoder(**kw):
    return MODELS.build(dict(
        type='OpenCLIPSide', arch='TinyCLIP-ViT-32', num_frames=8,
        side=dict(type='LadderSideNetwork', embed_dims=64,
                  temporal_layers=(2, 3)), **kw))


def test_tower_runs_without_graph_and_only_the_side_trains():
    torch.manual_seed(0)
    enc = side_encoder()
    plain = MODELS.build(dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'))
    plain.load_state_dict(enc.state_dict(), strict=False)
    x = torch.randn(16, 3, 32, 32)
    graphs = []
    enc.visual.transformer.resblocks[-1].register_forward_hook(
        lambda m, i, o: graphs.append(o.requires_grad))
    feats = enc.forward_frame_features(x, FrameFeatureRequest(layers=(-1, )))
    assert graphs == [False]  # no autograd graph through the tower
    torch.testing.assert_close(feats.pooled, plain(x).detach())  # CLIP's
    assert feats.tokens[-1].shape == (16, 17, 64)
    feats.tokens[-1].square().mean().backward()
    for name, p in enc.named_parameters():
        assert p.requires_grad == name.startswith('side.'), name
        assert (p.grad is not None) == name.startswith('side.'), name
    # with_cp: the same loss and gradients
    cp = side_encoder(with_cp=True)
    cp.load_state_dict(enc.state_dict())
    loss = cp.forward_frame_features(
        x, FrameFeatureRequest(layers=(-1, ))).tokens[-1].square().mean()
    loss.backward()
    for (n, a), b in zip(enc.named_parameters(), cp.parameters()):
        if a.grad is not None:
            torch.testing.assert_close(a.grad, b.grad, msg=n)


def test_pca_init_and_trainable_only_checkpoints():
    enc = side_encoder(save_trainable_only=True)
    before = enc.side.blocks[0].attn.q.weight.clone()
    enc.init_weights()  # no pretrained: random tower, then the PCA init
    assert not torch.equal(before, enc.side.blocks[0].attn.q.weight)
    assert not any(k.startswith('visual.') for k in enc.state_dict())


@pytest.mark.parametrize('kw, match', [
    (dict(arch='TinyCLIP-RN-64'), 'reads the hidden states of ViT'),
    (dict(side=dict(type='LadderSideNetwork', num_layers=2)),
     'num_layers=2'),
    (dict(side=dict(type='LadderSideNetwork', temporal_layers=(9, ))),
     r'temporal_layers \[9\]'),
    (dict(frozen_stages=1), 'freezes the whole tower'),
])
def test_impossible_side_settings_are_refused(kw, match):
    cfg = dict(type='OpenCLIPSide', arch='TinyCLIP-ViT-32', num_frames=8)
    cfg.update(kw)
    with pytest.raises(ValueError, match=match):
        MODELS.build(cfg)


def test_class_descriptions_embed_and_refuse(tmp_path):
    path = tmp_path / 'd.json'
    path.write_text(json.dumps({'brush hair': ['a person brushes hair',
                                               'someone combs'],
                                'run': ['a person runs']}))
    text = MODELS.build(dict(type='OpenCLIPText', arch='TinyCLIP-ViT-32',
                             descriptions=str(path)))
    emb = text(['brush_hair'])  # the official underscore rule
    sent = torch.nn.functional.normalize(
        text.encode_text(['a person brushes hair', 'someone combs']), dim=-1)
    expected = torch.nn.functional.normalize(sent.mean(0), dim=-1)
    torch.testing.assert_close(emb[0], expected)
    with pytest.raises(ValueError, match=r"'swim' has no description in .*"
                       r"d\.json"):
        text(['swim'])

    class Split:
        class_names = ['run', 'swim', 'jump']

    model = torch.nn.Module()
    model.text_encoder = text
    with pytest.raises(ValueError, match=r"train split has 2 class\(es\) "
                       r"without a description.*'swim', 'jump'"):
        check_described(model, Split(), 'train')
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'run': []}))
    with pytest.raises(ValueError, match=r"bad\.json, class 'run'"):
        MODELS.build(dict(type='OpenCLIPText', arch='TinyCLIP-ViT-32',
                          descriptions=str(bad))).descriptions
    with pytest.raises(ValueError, match='gone.json does not exist'):
        MODELS.build(dict(type='OpenCLIPText', arch='TinyCLIP-ViT-32',
                          descriptions=str(tmp_path / 'gone.json'))
                     ).descriptions


def test_shipped_synthetic_descriptions_are_the_grammar_s():
    from m2df_mmaction.synthetic import CLASS_CATALOGUE
    with open(CLASS_DESCRIPTIONS) as f:
        shipped = json.load(f)
    classes = [c for split in CLASS_CATALOGUE.values() for c in split]
    for c in classes:  # by name and by folder slug
        assert shipped[c.name] == shipped[c.slug] == \
            class_descriptions([c.name])[c.name]
    assert set(shipped) == {c.name for c in classes} | \
        {c.slug for c in classes}
    assert len(set(map(len, shipped.values()))) == 1
