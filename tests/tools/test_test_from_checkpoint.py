# Copyright (c) m2df_mmaction contributors.
"""tools/test.py builds the network a checkpoint holds and loads it,
without reading (or downloading) the config's pretrained CLIP weights."""
import importlib.util
import os
import os.path as osp
import shutil
import socket

import huggingface_hub
import open_clip
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from m2df_mmaction.models.open_clip_utils import build as build_module
from m2df_mmaction.models.open_clip_utils import weights as weights_module

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHIPPED = osp.join(ROOT, 'm2df_mmaction', 'synthetic', 'weights',
                   'tiny_clip_world.pth')
NO_WORKERS = [
    'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'
]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'm2df_tools_test_ckpt', osp.join(ROOT, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def workdir(tiny_benchmark, tmp_path, monkeypatch):
    """The tiny benchmark at data/synthetic of the current folder."""
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_benchmark, tmp_path / 'data' / 'synthetic')
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def block_weights(monkeypatch):
    """``block_weights() -> calls``: from then on, fail on any read of CLIP
    weights, download or network connection; the calls are listed."""
    return lambda: _block(monkeypatch)


def _block(monkeypatch):
    calls = []

    def refuse(name):

        def call(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f'{name} called')

        return call

    for module, name in ((open_clip, 'download_pretrained'),
                         (open_clip.pretrained, 'download_pretrained'),
                         (open_clip.pretrained,
                          'download_pretrained_from_hf'),
                         (huggingface_hub, 'hf_hub_download'),
                         (build_module, 'resolve_pretrained'),
                         (build_module, 'load_open_clip_weights'),
                         (weights_module, 'read_open_clip_checkpoint'),
                         (socket, 'create_connection'),
                         (socket.socket, 'connect')):
        monkeypatch.setattr(module, name, refuse(name))
    return calls


def _save_checkpoint(cfg, path, init_weights):
    """As a training run saves one: the built model (its CLIP weights
    loaded by init_weights() when ``init_weights``), the config in meta."""
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if init_weights:
        model.init_weights()
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text)),
        path)
    return model


def test_openai_benchmark_config_tests_offline(workdir, block_weights,
                                               capsys):
    """configs/m2df_ssv2_5w1s.py (RN50, pretrained='openai'): no network,
    no download attempt, the checkpoint's weights."""
    config = osp.join(ROOT, 'configs', 'm2df_ssv2_5w1s.py')
    cfg = Config.fromfile(config)
    assert cfg.model.backbone.pretrained == 'openai'
    no_weights_read = block_weights()
    ckpt = str(workdir / 'rn50.pth')
    # built offline (the tag's config gives the activation), not loaded
    model = _save_checkpoint(cfg, ckpt, init_weights=False)
    assert model.text_encoder.quick_gelu.item() is True
    data = 'data/synthetic'
    metrics = _load_tool().main([
        config, ckpt, '--work-dir',
        str(workdir / 'work'), '--cfg-options', *NO_WORKERS,
        f'test_dataloader.dataset.dataset.ann_file={data}/test.txt',
        f'test_dataloader.dataset.dataset.data_prefix.video={data}',
        f'test_dataloader.dataset.class_names={data}/test_classes.txt',
        'test_dataloader.dataset.num_episodes=1',
        'test_dataloader.dataset.dataset.pipeline.1.num_clips=1'
    ])
    assert no_weights_read == []
    assert 0 <= metrics['fewshot/accuracy'] <= 100
    assert 'Cannot fetch' not in capsys.readouterr().err


def test_deleted_pretrained_file_still_tests(workdir, block_weights):
    """Trained from a local weights file, tested after it was deleted."""
    config = osp.join(ROOT, 'configs', 'm2df_tiny-clip-world_demo_5w1s.py')
    weights = str(workdir / 'clip.pth')
    shutil.copy(SHIPPED, weights)
    clip = [
        f'model.backbone.pretrained={weights}',
        f'model.text_encoder.pretrained={weights}'
    ]
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(a.split('=') for a in clip))
    ckpt = str(workdir / 'trained.pth')
    trained = _save_checkpoint(cfg, ckpt, init_weights=True)
    shipped = torch.load(SHIPPED, map_location='cpu')['state_dict']
    assert torch.equal(trained.backbone.visual.proj,
                       shipped['visual.proj'].float())
    os.remove(weights)
    no_weights_read = block_weights()
    dump = str(workdir / 'preds.pkl')
    metrics = _load_tool().main([
        config, ckpt, '--work-dir',
        str(workdir / 'work'), '--dump', dump, '--cfg-options', *clip,
        *NO_WORKERS, 'test_dataloader.dataset.num_episodes=2'
    ])
    assert no_weights_read == []
    assert 0 <= metrics['fewshot/accuracy'] <= 100
