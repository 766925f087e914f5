# Copyright (c) m2df_mmaction contributors.
"""Known bad inputs of tools/train.py, tools/test.py, the converter and the
demo: one message that names the file or option, exit status 1, no
traceback (docs/troubleshooting.md, "Tool messages")."""
import argparse
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from m2df_mmaction.utils import run_main

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OTAM = osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')
M2DF = osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py')
# Two iterations, two validation/test episodes.
TINY = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
    'default_hooks.checkpoint.interval=2', 'param_scheduler.0.end=1',
    'param_scheduler.1.begin=1', 'param_scheduler.1.end=2',
    'val_dataloader.dataset.num_episodes=2',
    'test_dataloader.dataset.num_episodes=2'
]
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is here')


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tools():
    return dict(
        train=load('tools/train.py', 'm2df_tools_train'),
        test=load('tools/test.py', 'm2df_tools_test'),
        convert=load('tools/convert_official_checkpoint.py',
                     'm2df_tools_convert'),
        demo=load('demo/fewshot_demo.py', 'm2df_tools_demo'))


@pytest.fixture
def run(tools, capsys, monkeypatch):
    """``run(tool, argv) -> (exit status, stdout + stderr)`` in-process,
    inside the tools' error boundary, without M2DF_DEBUG."""
    monkeypatch.delenv('M2DF_DEBUG', raising=False)

    def call(tool, argv):
        code = run_main(tools[tool].main, argv, f'{tool}.py')
        out = capsys.readouterr()
        return code, out.out + out.err

    return call


@pytest.fixture
def workdir(tiny_benchmark, tmp_path, monkeypatch):
    """The tiny benchmark at data/synthetic of the current folder."""
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_benchmark, tmp_path / 'data' / 'synthetic')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def checkpoint_of(config, path, with_cfg=True):
    """A random checkpoint of ``config``'s model, as MMEngine saves one
    (its meta holds the config) or, ``with_cfg=False``, without it."""
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    meta = dict(cfg=cfg.pretty_text) if with_cfg else {}
    torch.save(dict(state_dict=model.state_dict(), meta=meta), str(path))
    return str(path)


def assert_one_message(code, out, tool, *needles):
    assert code == 1, out[-3000:]
    assert 'Traceback' not in out, out[-3000:]
    assert 'Config:' not in out  # failed before the Runner's dump
    line = next(x for x in out.splitlines() if x.startswith(f'{tool}.py: '))
    message = out[out.index(line):]
    for needle in needles:
        assert needle in message, message
    return message


def test_num_workers_0_trains_and_tests(run, workdir):
    """torch refuses persistent_workers=True without workers; the tools
    turn it off (configs ask for it) instead of failing."""
    zero = [f'{d}_dataloader.num_workers=0' for d in ('train', 'val', 'test')]
    code, out = run('train', [
        OTAM, '--work-dir', 'work', '--cfg-options', *TINY, *zero])
    assert code == 0, out[-3000:]
    assert osp.isfile('work/iter_2.pth')
    code, out = run('test', [
        OTAM, 'work/iter_2.pth', '--work-dir', 'work', '--cfg-options',
        'test_dataloader.dataset.num_episodes=2', *zero])
    assert code == 0, out[-3000:]


@NO_GPU
def test_amp_without_a_gpu(run, workdir):
    code, out = run('train', [OTAM, '--amp', '--cfg-options', *TINY])
    assert_one_message(code, out, 'train', '--amp', 'needs a GPU',
                       'Train without --amp')


def test_missing_data_is_named_before_the_dump(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/synthetic here
    code, out = run('train', [OTAM, '--cfg-options', *TINY])
    assert_one_message(code, out, 'train',
                       'train_dataloader.dataset.dataset.ann_file',
                       'data/synthetic/train.txt does not exist',
                       'make_synthetic.py')


def test_bad_checkpoint_files_are_named(run, workdir):
    good = checkpoint_of(OTAM, workdir / 'otam.pth')
    data = open(good, 'rb').read()
    (workdir / 'cut.pth').write_bytes(data[:len(data) // 2])
    code, out = run('test', [OTAM, 'cut.pth'])
    assert_one_message(code, out, 'test', 'checkpoint cut.pth is truncated',
                       'Copy or save it again')
    code, out = run('train', [OTAM, '--resume', 'cut.pth'])
    assert_one_message(code, out, 'train', '--resume cut.pth is truncated')
    code, out = run('test', [OTAM, 'data/synthetic/test.txt'])
    assert_one_message(
        code, out, 'test', 'data/synthetic/test.txt is not a checkpoint: '
        'it is a text file (first line: "videos/test/')
    code, out = run('test', [OTAM, 'nope.pth'])
    assert_one_message(code, out, 'test', 'checkpoint nope.pth does not '
                       'exist')


def test_checkpoint_of_another_model(run, workdir):
    """Told from the config in the checkpoint before anything is built; a
    checkpoint without one by its keys, printed with real line breaks."""
    os.makedirs('otam_run')
    ckpt = checkpoint_of(OTAM, workdir / 'otam_run' / 'iter_2.pth')
    Config.fromfile(OTAM).dump(str(workdir / 'otam_run' / 'otam.py'))
    code, out = run('test', [M2DF, ckpt])
    message = assert_one_message(
        code, out, 'test', 'iter_2.pth holds another model than this config',
        "model.cls_head.type: 'OTAMHead' in the checkpoint, 'M2DFHead' in "
        'the config', 'otam_run/otam.py')
    assert '\\n' not in message
    bare = checkpoint_of(OTAM, workdir / 'bare.pth', with_cfg=False)
    code, out = run('test', [
        M2DF, bare, '--cfg-options', 'test_dataloader.dataset.num_episodes=2'
    ])
    assert code == 1 and 'Traceback' not in out
    message = out[out.index('test.py: error: '):]
    assert message.startswith(f'test.py: error: {bare} does not fit the '
                              'model of this config:\n  ')
    assert 'missing keys: cls_head.contexts' in message
    assert '\\n' not in message


def test_converter_inputs_and_cfg_options(run, workdir):
    code, out = run('convert', ['data/synthetic/test.txt', M2DF, 'out.pth'])
    assert_one_message(
        code, out, 'convert', 'official checkpoint data/synthetic/test.txt '
        'is not a checkpoint: it is a text file')
    code, out = run('convert', [
        'data/synthetic/test.txt', M2DF, 'out.pth', '--cfg-options',
        'model.cls_haed.x=1'
    ])
    assert_one_message(code, out, 'convert', '--cfg-options '
                       "model.cls_haed.x: the config has no 'model.cls_haed'")
    # pickled objects of the official code besides the weights
    torch.save(dict(model_state={}, args=argparse.Namespace(lr=1)),
               str(workdir / 'objects.pth'))
    code, out = run('convert', ['objects.pth', M2DF, 'out.pth'])
    assert_one_message(
        code, out, 'convert', 'official checkpoint objects.pth holds '
        'pickled Python objects (e.g. argparse.Namespace) besides the '
        'weights', 'torch.save(model.state_dict(), path)')


def test_converter_cfg_options_reach_the_model(tools, tmp_path):
    """--cfg-options sets the CLIP weights the text encoder is taken from
    (offline: a local file instead of a tag), no config edit."""
    _as_official = load('tests/tools/test_convert_official_checkpoint.py',
                        'm2df_test_convert')._as_official
    torch.manual_seed(3)
    official = str(tmp_path / 'official.pth')
    torch.save(_as_official(MODELS.build(Config.fromfile(M2DF).model)),
               official)
    weights = osp.join(ROOT, 'm2df_mmaction', 'synthetic', 'weights',
                       'tiny_clip_world.pth')
    out = str(tmp_path / 'converted.pth')
    tools['convert'].main([
        official, M2DF, out, '--cfg-options',
        f'model.text_encoder.pretrained={weights}'
    ])
    converted = torch.load(out, map_location='cpu')['state_dict']
    cfg = Config.fromfile(M2DF)
    cfg.model.text_encoder.pretrained = weights
    model = MODELS.build(cfg.model)
    model.init_weights()  # the CLIP weights load here
    expected = model.state_dict()
    text = [k for k in expected if k.startswith('text_encoder.')]
    assert text
    for key in text:
        assert torch.equal(converted[key], expected[key]), key


@NO_GPU
def test_demo_device_cuda_without_a_gpu(run, workdir):
    ckpt = checkpoint_of(M2DF, workdir / 'm2df.pth')
    code, out = run('demo', [
        M2DF, ckpt, '--support', 'data/synthetic/videos/test', '--query',
        'data/synthetic/videos/test', '--device', 'cuda'
    ])
    assert code == 1 and 'Traceback' not in out
    assert out.startswith('fewshot_demo: error: --device cuda: no CUDA '
                          'device here'), out
    assert 'use --device cpu' in out


def test_script_prints_two_lines_and_debug_the_traceback(
        tools, tmp_path, monkeypatch):
    """The real entry point: nothing but the message (no mmcv-lite
    warning, no config dump); --debug shows the traceback."""
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'PK\x03\x04' + bytes(100))
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    env.pop('M2DF_DEBUG', None)
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'test.py'), OTAM, str(bad)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert result.stdout == ''
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f'test.py: error: checkpoint {bad} is '
                               'truncated or corrupt')
    assert lines[1] == '(--debug or M2DF_DEBUG=1 shows the traceback)'
    monkeypatch.delenv('M2DF_DEBUG', raising=False)
    from m2df_mmaction.utils import UserInputError
    with pytest.raises(UserInputError, match='truncated'):
        run_main(tools['test'].main, [OTAM, str(bad), '--debug'])
