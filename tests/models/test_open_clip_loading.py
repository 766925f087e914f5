# Copyright (c) m2df_mmaction contributors.
"""Building open_clip models offline and loading every checkpoint format."""
import argparse
import copy
import time

import open_clip
import pytest
import torch
from safetensors.torch import save_file

from m2df_mmaction.models import open_clip_utils
from m2df_mmaction.models.open_clip_utils import (
    CheckpointMismatchError, PretrainedWeightsUnavailableError,
    build_open_clip_model, is_torchscript_archive, read_open_clip_state_dict,
    register_open_clip_configs)

ARCH = 'TinyCLIP-ViT-32'


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny models run fastest on one thread (and on a shared machine two
    OpenMP threads wait for each other at every op)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _outputs(model):
    """Image and text embeddings of fixed inputs."""
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, 32, 32, generator=gen)
    tokens = open_clip.get_tokenizer(ARCH)(['a photo of a dog', 'a cat'])
    model.eval()
    with torch.no_grad():
        return model.encode_image(images), model.encode_text(tokens)


def _assert_same_outputs(model_a, model_b):
    for a, b in zip(_outputs(model_a), _outputs(model_b)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.fixture(scope='module')
def source():
    torch.manual_seed(1)
    return build_open_clip_model(ARCH)


@pytest.fixture(scope='module')
def openai_source():
    """A tiny CLIP as OpenAI trained theirs: QuickGELU activations."""
    torch.manual_seed(2)
    return build_open_clip_model(ARCH, quick_gelu=True)


def test_tiny_configs_registered():
    names = register_open_clip_configs()
    assert {'TinyCLIP-ViT-32', 'TinyCLIP-RN-64'} <= set(names)
    assert {'TinyCLIP-ViT-32',
            'TinyCLIP-RN-64'} <= set(open_clip.list_models())
    n_dirs = len(open_clip_utils.build._registered_dirs)
    register_open_clip_configs()
    assert len(open_clip_utils.build._registered_dirs) == n_dirs
    assert open_clip.get_model_config(ARCH)['embed_dim'] == 64


def test_random_init_differs_between_builds(source):
    torch.manual_seed(3)
    other = build_open_clip_model(ARCH)
    assert not torch.equal(_outputs(other)[0], _outputs(source)[0])


@pytest.mark.parametrize('fmt', [
    'plain.pth', 'state_dict+module.pth', 'model.pth', 'module.ckpt',
    'weights.safetensors'
])
def test_local_file_round_trip(source, tmp_path, fmt):
    state_dict = source.state_dict()
    path = str(tmp_path / fmt)
    if fmt == 'plain.pth':
        torch.save(state_dict, path)
    elif fmt == 'state_dict+module.pth':  # DDP training checkpoint
        torch.save(
            dict(
                meta=dict(epoch=3, seed=0),
                state_dict={
                    'module.' + k: v
                    for k, v in state_dict.items()
                },
                optimizer=dict(state={}, param_groups=[])), path)
    elif fmt == 'model.pth':
        torch.save(dict(model=state_dict, epoch=1), path)
    elif fmt == 'module.ckpt':
        torch.save(dict(module=state_dict), path)
    else:
        save_file({k: v.contiguous() for k, v in state_dict.items()}, path)
    loaded = build_open_clip_model(ARCH, pretrained=path)
    _assert_same_outputs(source, loaded)


@pytest.mark.filterwarnings('ignore:`torch.jit.script` is deprecated')
def test_openai_torchscript_round_trip(openai_source, tmp_path):
    # OpenAI's .pt files are scripted CLIP models with three extra integer
    # entries; open_clip's CLIP has the same layout and scripts offline.
    model = copy.deepcopy(openai_source)
    del model.context_length, model.vocab_size  # ints here, tensors there
    for name, value in (('input_resolution', 32), ('context_length', 77),
                        ('vocab_size', 49408)):
        model.register_buffer(name, torch.tensor(value))
    scripted = torch.jit.script(model)
    path = str(tmp_path / 'ViT-tiny.pt')
    scripted.save(path)
    assert is_torchscript_archive(path)
    state_dict = read_open_clip_state_dict(path)
    assert 'input_resolution' not in state_dict
    # quick_gelu is inferred from the TorchScript archive
    loaded = build_open_clip_model(ARCH, pretrained=path)
    assert isinstance(loaded.visual.transformer.resblocks[0].mlp.gelu,
                      open_clip.transformer.QuickGELU)
    _assert_same_outputs(openai_source, loaded)

    # OpenAI's archives hold fp16 weights; they load into an fp32 model.
    half_path = str(tmp_path / 'ViT-tiny-fp16.pt')
    torch.jit.script(model.half()).save(half_path)
    loaded = build_open_clip_model(ARCH, pretrained=half_path)
    assert loaded.visual.proj.dtype == torch.float32
    for a, b in zip(_outputs(openai_source), _outputs(loaded)):
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.05)


def test_other_architecture_is_refused(tmp_path):
    torch.manual_seed(0)
    resnet = build_open_clip_model('TinyCLIP-RN-64')
    path = str(tmp_path / 'rn.pth')
    torch.save(resnet.state_dict(), path)
    with pytest.raises(CheckpointMismatchError) as err:
        build_open_clip_model(ARCH, pretrained=path)
    msg = str(err.value)
    assert path in msg and ARCH in msg
    assert '(different vision tower, vision width and vision layers)' in msg
    assert "rn.pth holds 'TinyCLIP-RN-64': vision ModifiedResNet" in msg


def test_missing_keys_are_listed(source, tmp_path):
    # Same architecture by its shapes, but keys missing: the strict load
    # lists them (the first few of each kind).
    state_dict = {
        k: v
        for k, v in source.state_dict().items()
        if not k.startswith('visual.ln_post') and k != 'visual.proj'
    }
    state_dict['visual.extra'] = torch.zeros(1)
    path = str(tmp_path / 'partial.pth')
    torch.save(state_dict, path)
    with pytest.raises(CheckpointMismatchError) as err:
        build_open_clip_model(ARCH, pretrained=path)
    msg = str(err.value)
    assert path in msg and ARCH in msg
    assert '3 missing keys: visual.proj, visual.ln_post.weight' in msg \
        or '3 missing keys: visual.ln_post.weight' in msg
    assert '1 unexpected keys: visual.extra' in msg


def test_shape_mismatch_is_refused(source, tmp_path):
    state_dict = dict(source.state_dict())
    state_dict['text_projection'] = state_dict['text_projection'][:, :32]
    path = str(tmp_path / 'narrow.pth')
    torch.save(state_dict, path)
    with pytest.raises(CheckpointMismatchError,
                       match=r'\(different embedding\)'):
        build_open_clip_model(ARCH, pretrained=path)
    # an image-size difference of a ResNet tower is no architecture field:
    # the strict load names the tensor
    rn = build_open_clip_model('TinyCLIP-RN-64')
    state_dict = dict(rn.state_dict())
    pos = state_dict['visual.attnpool.positional_embedding']
    state_dict['visual.attnpool.positional_embedding'] = pos[:3]
    torch.save(state_dict, path)
    with pytest.raises(CheckpointMismatchError,
                       match='visual.attnpool.positional_embedding'):
        build_open_clip_model('TinyCLIP-RN-64', pretrained=path)


def test_unsafe_pickle_is_refused(source, tmp_path):
    path = str(tmp_path / 'with_args.pth')
    torch.save(
        dict(state_dict=source.state_dict(), args=argparse.Namespace(a=1)),
        path)
    with pytest.raises(RuntimeError, match='weights_only=True'):
        build_open_clip_model(ARCH, pretrained=path)


def test_unknown_tag_or_missing_file():
    with pytest.raises(FileNotFoundError, match='openai'):
        build_open_clip_model('RN50', pretrained='no_such_tag')
    with pytest.raises(FileNotFoundError, match='neither an existing file'):
        build_open_clip_model(ARCH, pretrained='/no/such/file.pth')
    with pytest.raises(ValueError, match='Unknown open_clip architecture'):
        build_open_clip_model('NoSuchArch-1')


def test_tag_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    start = time.perf_counter()
    with pytest.raises(PretrainedWeightsUnavailableError) as err:
        build_open_clip_model(
            'RN50', pretrained='openai', cache_dir=str(tmp_path))
    assert time.perf_counter() - start < 10
    msg = str(err.value)
    assert "'openai'" in msg and "'RN50'" in msg
    assert 'HF_HUB_OFFLINE' in msg and 'local path' in msg


def test_tag_unreachable_hub_fails_fast(tmp_path, monkeypatch):
    # Without HF_HUB_OFFLINE the host is probed first (never for real in
    # tests: the probe is replaced).
    monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    monkeypatch.setattr(open_clip_utils.pretrained, '_hub_offline',
                        lambda: False)
    probed = []
    monkeypatch.setattr(open_clip_utils.pretrained, '_host_reachable',
                        lambda host: probed.append(host) or False)
    with pytest.raises(
            PretrainedWeightsUnavailableError, match='cannot be reached'):
        build_open_clip_model(
            'ViT-B-32', pretrained='openai', cache_dir=str(tmp_path))
    assert probed == ['huggingface.co']


def test_cached_tag_is_used_offline(source, tmp_path, monkeypatch):
    cached = str(tmp_path / 'cached.bin')
    torch.save(source.state_dict(), cached)
    tag_cfg = dict(hf_hub='org/tiny/', quick_gelu=False)
    monkeypatch.setattr(open_clip, 'get_pretrained_cfg',
                        lambda arch, tag: tag_cfg if tag == 'tiny' else {})
    monkeypatch.setattr(open_clip_utils.pretrained, '_cached_tag_file',
                        lambda cfg, cache_dir: cached)
    loaded = build_open_clip_model(ARCH, pretrained='tiny')
    _assert_same_outputs(source, loaded)


def _uses_quick_gelu(model) -> bool:
    return isinstance(model.visual.transformer.resblocks[0].mlp.gelu,
                      open_clip.transformer.QuickGELU)


def _pretend_published(monkeypatch, tags):
    """Give the tiny architecture open_clip tags, as real ones have."""
    real_tags = open_clip.list_pretrained_tags_by_model
    real_cfg = open_clip.get_pretrained_cfg
    monkeypatch.setattr(
        open_clip, 'list_pretrained_tags_by_model', lambda arch: list(tags)
        if arch == ARCH else real_tags(arch))
    monkeypatch.setattr(
        open_clip, 'get_pretrained_cfg', lambda arch, tag: dict(
            quick_gelu=tags[tag]) if arch == ARCH else real_cfg(arch, tag))


def test_plain_state_dict_of_openai_style_weights_gets_quick_gelu(
        openai_source, tmp_path, monkeypatch):
    """OpenAI weights as a plain state dict: the activation comes from the
    weights, never silently from how they were passed."""
    path = str(tmp_path / 'openai_plain.pt')
    torch.save(openai_source.state_dict(), path)
    # Every published weight of the architecture uses QuickGELU (as RN50).
    _pretend_published(monkeypatch, dict(openai=True, yfcc15m=True))
    loaded = build_open_clip_model(ARCH, pretrained=path)
    assert _uses_quick_gelu(loaded)
    _assert_same_outputs(openai_source, loaded)
    # Published with either activation (as ViT-B-16): the file cannot tell.
    _pretend_published(monkeypatch, dict(openai=True, laion2b=False))
    with pytest.raises(ValueError, match='quick_gelu=True') as error:
        build_open_clip_model(ARCH, pretrained=path)
    assert 'openai_plain.pt' in str(error.value)
    assert 'laion2b' in str(error.value)
    loaded = build_open_clip_model(ARCH, pretrained=path, quick_gelu=True)
    assert _uses_quick_gelu(loaded)
    _assert_same_outputs(openai_source, loaded)
    # The file says so itself.
    tagged = str(tmp_path / 'with_meta.pt')
    torch.save(dict(state_dict=openai_source.state_dict(), arch=ARCH,
                    quick_gelu=True), tagged)
    assert _uses_quick_gelu(build_open_clip_model(ARCH, pretrained=tagged))


def test_quick_gelu_decision_order(tmp_path):
    decide = open_clip_utils.decide_quick_gelu
    plain = str(tmp_path / 'w.pt')
    torch.save({}, plain)
    assert decide('ViT-B-16', None, dict(quick_gelu=True))  # the tag
    assert not decide('ViT-B-16', None, dict(quick_gelu=False))
    assert not decide(ARCH, None)  # random init: the architecture's own
    assert decide('ViT-B-16-quickgelu', plain)  # the architecture fixes it
    assert decide('RN50', plain)  # every RN50 tag is QuickGELU
    assert not decide(ARCH, plain)  # no tags: plain GELU
    assert not decide('ViT-B-16', plain, meta=dict(quick_gelu=False))
    with pytest.raises(ValueError, match="'ViT-B-16-quickgelu'"):
        decide('ViT-B-16', plain)
