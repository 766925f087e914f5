# Copyright (c) m2df_mmaction contributors.
"""CLIP weights of another architecture are refused before anything is
built, naming the file, the config's and the file's architecture."""
import os.path as osp

import open_clip
import pytest
import torch
from mmaction.registry import MODELS
from safetensors.torch import save_file

import m2df_mmaction
from m2df_mmaction.models.open_clip_utils import (CheckpointMismatchError,
                                                  build_open_clip_model,
                                                  describe_architecture,
                                                  describe_weights,
                                                  load_open_clip_weights,
                                                  read_weight_shapes)
from m2df_mmaction.models.open_clip_utils.arch_check import (
    architectures_like, summarize)

TINY_WEIGHTS = osp.join(
    osp.dirname(m2df_mmaction.__file__), 'synthetic', 'weights',
    'tiny_clip_world.pth')


@pytest.fixture
def no_build(monkeypatch):
    """Fail the test if a CLIP is built (the check must come first)."""

    def create_model(*args, **kwargs):
        raise AssertionError(f'a CLIP was built: {args}')

    monkeypatch.setattr(open_clip, 'create_model', create_model)


def tiny_state_dict():
    return torch.load(TINY_WEIGHTS, weights_only=True)['state_dict']


@pytest.mark.parametrize('arch', ['TinyCLIP-ViT-32', 'TinyCLIP-RN-64'])
def test_weights_describe_their_architecture(arch, tmp_path):
    model = build_open_clip_model(arch)
    path = str(tmp_path / 'w.safetensors')
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              path)
    shapes = read_weight_shapes(path)
    assert shapes == {k: tuple(v.shape)
                      for k, v in model.state_dict().items()}
    found = describe_weights(shapes)
    assert found == describe_architecture(arch)
    assert architectures_like(found)[0] == arch
    tower = 'ViT' if 'ViT' in arch else 'ModifiedResNet'
    assert summarize(found).startswith(f'vision {tower} (width ')


def test_registered_resnet_and_vit_descriptions():
    rn50 = describe_architecture('RN50')
    assert summarize(rn50) == (
        'vision ModifiedResNet (width 64, layers 3-4-6-3, image 224); '
        'text (width 512, layers 12, vocabulary 49408, context 77); '
        'embedding 1024')
    assert architectures_like(rn50)[:2] == ['RN50', 'RN50-quickgelu']
    assert describe_architecture('ViT-B-16')['patch size'] == 16


@pytest.mark.parametrize('module', ['OpenCLIPVisual', 'OpenCLIPText'])
@pytest.mark.parametrize('arch', ['RN50', 'ViT-B-16'])
def test_tiny_weights_for_a_large_architecture(arch, module, no_build):
    with pytest.raises(CheckpointMismatchError) as error:
        MODELS.build(dict(type=module, arch=arch, pretrained=TINY_WEIGHTS))
    message = str(error.value)
    assert message.startswith(
        f'The CLIP weights {TINY_WEIGHTS} do not fit arch={arch!r} of the '
        'config (different ')
    # both towers are compared
    assert 'vision width' in message and 'text width' in message
    assert f'  {arch!r} (the config): vision ' \
        f'{"ModifiedResNet" if arch == "RN50" else "ViT"} (width ' in message
    assert ("  tiny_clip_world.pth holds 'TinyCLIP-ViT-32': vision ViT "
            '(width 128, layers 4, patch 8); text (width 64, layers 1, '
            'vocabulary 49408, context 77); embedding 64') in message
    assert "set arch='TinyCLIP-ViT-32' for both OpenCLIPVisual and " \
        'OpenCLIPText (model.backbone.arch and model.text_encoder.arch)' \
        in message


def test_file_without_arch_entry_is_recognised(tmp_path, no_build):
    path = str(tmp_path / 'plain.pth')
    torch.save(tiny_state_dict(), path)  # no 'arch' stored next to it
    with pytest.raises(CheckpointMismatchError,
                       match="plain.pth holds 'TinyCLIP-ViT-32'"):
        build_open_clip_model('RN50', pretrained=path)


def test_text_tower_alone_differs(tmp_path, no_build):
    state_dict = tiny_state_dict()
    state_dict['token_embedding.weight'] = torch.zeros(1000, 64)
    path = str(tmp_path / 'vocab.pth')
    torch.save(state_dict, path)
    with pytest.raises(CheckpointMismatchError) as error:
        build_open_clip_model('TinyCLIP-ViT-32', pretrained=path)
    message = str(error.value)
    assert '(different vocabulary)' in message
    assert 'vocab.pth holds an architecture no registered open_clip ' \
        'config matches' in message


def test_resnet_image_size_differs(tmp_path, no_build):
    state_dict = {
        'visual.layer1.0.conv1.weight': torch.zeros(16, 16, 1, 1),
        'visual.attnpool.positional_embedding': torch.zeros(10, 512),
    }  # a 3 x 3 grid: 96 px, TinyCLIP-RN-64 is 64 px
    path = str(tmp_path / 'rn96.pth')
    torch.save(state_dict, path)
    with pytest.raises(CheckpointMismatchError,
                       match=r'\(different vision layers and image size\)'):
        build_open_clip_model('TinyCLIP-RN-64', pretrained=path)


def test_open_clip_assertion_becomes_a_named_mismatch(tmp_path):
    # Past the check (called directly): open_clip's own assertion on the
    # text position embedding is reported with the file and architecture.
    state_dict = tiny_state_dict()
    state_dict['positional_embedding'] = torch.zeros(77, 32)
    path = str(tmp_path / 'narrow_text.pth')
    torch.save(state_dict, path)
    model = build_open_clip_model('TinyCLIP-ViT-32')
    with pytest.raises(CheckpointMismatchError) as error:
        load_open_clip_weights(model, path, arch='TinyCLIP-ViT-32')
    message = str(error.value)
    assert path in message and "'TinyCLIP-ViT-32'" in message
    assert 'positional_embedding (77, 32) vs (77, 64)' in message
