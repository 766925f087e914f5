# Copyright (c) m2df_mmaction contributors.
"""The open_clip encoders load their pretrained weights in init_weights()
and keep the activation they were built with in their state dict."""
import re
import warnings

import open_clip
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models import open_clip_utils
from m2df_mmaction.models.open_clip_utils import (
    CheckpointMismatchError, PretrainedWeightsUnavailableError,
    build_open_clip_model, model_cfg_for_checkpoint)
from m2df_mmaction.utils import (UserInputError, UserKeyError,
                                 check_checkpoint_matches)

ARCH = 'TinyCLIP-ViT-32'
ENCODERS = ('OpenCLIPVisual', 'OpenCLIPText')


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """A plain CLIP state dict of the tiny architecture, and its file."""
    torch.manual_seed(5)
    state = build_open_clip_model(ARCH).state_dict()
    path = str(tmp_path_factory.mktemp('weights') / 'clip.pth')
    torch.save(state, path)
    return path, state


def _model_cfg(**clip):
    return dict(
        type='FewShotRecognizer',
        backbone=dict(type='OpenCLIPVisual', arch=ARCH, **clip),
        text_encoder=dict(type='OpenCLIPText', arch=ARCH, **clip),
        cls_head=dict(type='OTAMHead'))


def _file_key(key):
    """The key of a recognizer weight in a CLIP state dict."""
    if key.startswith('backbone.'):
        return key[len('backbone.'):]
    return key[len('text_encoder.'):]


def _pretend_tags(monkeypatch, tags):
    """Give the tiny architecture open_clip tags (``{tag: quick_gelu}``),
    on the Hugging Face hub, as real architectures have."""
    real_tags = open_clip.list_pretrained_tags_by_model
    real_cfg = open_clip.get_pretrained_cfg
    monkeypatch.setattr(
        open_clip, 'list_pretrained_tags_by_model', lambda arch: list(tags)
        if arch == ARCH else real_tags(arch))
    monkeypatch.setattr(
        open_clip, 'get_pretrained_cfg',
        lambda arch, tag: dict(hf_hub=f'org/tiny-{tag}/',
                               quick_gelu=tags[tag]) if arch == ARCH
        and tag in tags else real_cfg(arch, tag))


def test_weights_load_in_init_weights(weights):
    path, state = weights
    model = MODELS.build(_model_cfg(pretrained=path))
    clip_keys = [
        k for k in model.state_dict()
        if k.startswith(('backbone.', 'text_encoder.'))
        and not k.endswith('quick_gelu')
    ]
    # every CLIP weight once, but CLIP's logit scale (no encoder's)
    assert sorted(map(_file_key, clip_keys)) == sorted(
        set(state) - {'logit_scale'})
    # built, not loaded: open_clip's random init
    random = [
        k for k in clip_keys
        if not torch.equal(model.state_dict()[k], state[_file_key(k)])
    ]
    assert 'backbone.visual.proj' in random
    assert 'text_encoder.token_embedding.weight' in random
    model.init_weights()
    for key in clip_keys:
        assert torch.equal(model.state_dict()[key], state[_file_key(key)]), \
            key
    # the activation it was built with is part of the state dict
    assert model.state_dict()['backbone.quick_gelu'].item() is False
    assert model.state_dict()['text_encoder.quick_gelu'].item() is False


@pytest.mark.parametrize('encoder', ENCODERS)
def test_running_before_init_weights_warns_once(weights, encoder):
    path, _ = weights
    cfg = dict(type=encoder, arch=ARCH, pretrained=path)
    run = (lambda m: m(torch.randn(1, 3, 32, 32))) \
        if encoder == 'OpenCLIPVisual' else (lambda m: m(['dog']))
    module = MODELS.build(cfg)
    with pytest.warns(UserWarning, match=r'init_weights\(\)'):
        run(module)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        run(module)  # said once
        loaded = MODELS.build(cfg)
        loaded.init_weights()
        run(loaded)
        # weights from a state dict (a checkpoint) need no init_weights()
        from_state = MODELS.build(cfg)
        from_state.load_state_dict(loaded.state_dict())
        run(from_state)


@pytest.mark.parametrize('encoder', ENCODERS)
def test_state_dict_of_another_activation_is_refused(encoder):
    gelu = MODELS.build(dict(type=encoder, arch=ARCH))
    quick = MODELS.build(dict(type=encoder, arch=ARCH, quick_gelu=True))
    assert quick.state_dict()['quick_gelu'].item() is True
    with pytest.raises(CheckpointMismatchError) as error:
        gelu.load_state_dict(quick.state_dict())
    message = str(error.value)
    assert 'trained with QuickGELU' in message
    assert 'built with GELU' in message and 'quick_gelu=True' in message
    # a state dict saved before the activation was stored: loads as before
    old = dict(quick.state_dict())
    del old['quick_gelu']
    gelu.load_state_dict(old)
    assert gelu.quick_gelu.item() is False
    assert torch.equal(gelu.state_dict()[next(iter(old))],
                       old[next(iter(old))])


def test_recognizer_message_names_the_config_key():
    gelu = MODELS.build(_model_cfg())
    quick = MODELS.build(_model_cfg(quick_gelu=True))
    with pytest.raises(CheckpointMismatchError,
                       match='model.backbone.quick_gelu=True'):
        gelu.load_state_dict(quick.state_dict())


def test_checkpoint_without_stored_activation_passes_the_key_check():
    model = MODELS.build(_model_cfg())
    state = {
        k: v
        for k, v in model.state_dict().items() if not k.endswith('quick_gelu')
    }
    check_checkpoint_matches(model, 'old.pth', dict(state_dict=state))
    del state['backbone.visual.proj']
    with pytest.raises(UserKeyError, match='backbone.visual.proj'):
        check_checkpoint_matches(model, 'old.pth', dict(state_dict=state))


def test_model_cfg_for_checkpoint_uses_the_stored_activation(tmp_path):
    gone = str(tmp_path / 'deleted.pth')  # the pretrained file is gone
    cfg = _model_cfg(pretrained=gone)
    state = dict(state_dict={
        'backbone.quick_gelu': torch.tensor(True),
        'text_encoder.quick_gelu': torch.tensor(True)
    })
    rebuilt = model_cfg_for_checkpoint(cfg, state)
    for key in ('backbone', 'text_encoder'):
        assert rebuilt[key]['quick_gelu'] is True
        assert rebuilt[key]['pretrained'] is None
        assert cfg[key]['pretrained'] == gone  # the config is not changed
    model = MODELS.build(rebuilt)
    assert model.backbone.quick_gelu.item() is True
    # a config that says otherwise: one message
    cfg['text_encoder']['quick_gelu'] = False
    with pytest.raises(UserInputError) as error:
        model_cfg_for_checkpoint(cfg, state)
    assert str(error.value).startswith(
        'model.text_encoder.quick_gelu=False in the config, but the '
        'checkpoint was trained with QuickGELU')


def test_older_checkpoint_gets_the_training_decision(tmp_path, monkeypatch):
    """No stored activation: decided as training decided it, from the
    config's weights, without reading (here: having) them."""
    cfg = _model_cfg(pretrained=str(tmp_path / 'deleted.pth'))
    old = dict(state_dict={})
    # no open_clip tags (the tiny architecture): GELU
    assert model_cfg_for_checkpoint(cfg, old)['backbone']['quick_gelu'] \
        is False
    # every published weight QuickGELU (as RN50): QuickGELU
    _pretend_tags(monkeypatch, dict(openai=True, yfcc15m=True))
    assert model_cfg_for_checkpoint(cfg, old)['backbone']['quick_gelu'] \
        is True
    # a tag: its config says it (nothing is fetched)
    tagged = model_cfg_for_checkpoint(_model_cfg(pretrained='openai'), old)
    assert tagged['text_encoder']['quick_gelu'] is True
    assert tagged['text_encoder']['pretrained'] is None
    # the weights could be either, and they are not here to tell
    _pretend_tags(monkeypatch, dict(openai=True, laion2b=False))
    with pytest.raises(UserInputError) as error:
        model_cfg_for_checkpoint(cfg, old)
    assert 'does not store the activation of model.backbone' in str(
        error.value)
    assert 'quick_gelu=True' in str(error.value)


def test_a_tag_is_fetched_in_init_weights_not_in_init(monkeypatch):
    """Building fetches nothing (the tag's config gives the activation);
    init_weights() does, and offline says what to do."""
    _pretend_tags(monkeypatch, dict(openai=True))
    fetched = []
    monkeypatch.setattr(open_clip, 'download_pretrained',
                        lambda *a, **k: fetched.append(a) or 1 / 0)
    monkeypatch.setattr(open_clip_utils.pretrained, '_host_reachable',
                        lambda host: fetched.append(host) or False)
    model = MODELS.build(_model_cfg(pretrained='openai'))
    assert not fetched
    assert model.backbone.quick_gelu.item() is True
    assert model.text_encoder.quick_gelu.item() is True
    with pytest.raises(PretrainedWeightsUnavailableError,
                       match="'openai' of 'TinyCLIP-ViT-32'"):
        model.init_weights()
    assert not fetched  # HF_HUB_OFFLINE=1 (tests/conftest.py)


def test_truncated_weights_file_is_named_before_building(weights, tmp_path,
                                                         monkeypatch):
    path, _ = weights
    cut = str(tmp_path / 'cut.pth')
    with open(path, 'rb') as f, open(cut, 'wb') as out:
        out.write(f.read()[:1000])
    monkeypatch.setattr(open_clip, 'create_model', lambda *a, **k: 1 / 0)
    with pytest.raises(UserInputError,
                       match=re.escape(f'pretrained {cut} is truncated')):
        MODELS.build(_model_cfg(pretrained=cut))
