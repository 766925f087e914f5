# Copyright (c) m2df_mmaction contributors.
"""The tools' error boundary (m2df_mmaction/utils/errors.py) and the
cheap input checks (m2df_mmaction/utils/input_checks.py)."""
import logging
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from m2df_mmaction.utils import (UserInputError, UserKeyError, check_amp,
                                 check_cfg_options, check_data_files,
                                 check_device, fix_persistent_workers,
                                 is_input_error, run_main)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _raises(error):

    def main(argv):
        raise error

    return main


def test_input_error_is_one_message_and_exit_1(capsys, monkeypatch):
    monkeypatch.delenv('M2DF_DEBUG', raising=False)
    code = run_main(_raises(UserInputError('cfg x.py: bad thing')), [],
                    'tool.py')
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[0] == 'tool.py: error: cfg x.py: bad thing'
    assert 'Traceback' not in err and '--debug' in err


def test_key_error_message_is_printed_as_written(capsys, monkeypatch):
    monkeypatch.delenv('M2DF_DEBUG', raising=False)
    assert run_main(_raises(UserKeyError('a.pth does not fit:\n  3 keys')),
                    [], 'test.py') == 1
    err = capsys.readouterr().err
    assert 'test.py: error: a.pth does not fit:\n  3 keys\n' in err
    assert '\\n' not in err and "'" not in err
    assert str(UserKeyError('x\ny')) == 'x\ny'  # KeyError's would be 'x\\ny'
    assert isinstance(UserKeyError('k'), KeyError)


def test_debug_flag_and_environment_show_the_traceback(monkeypatch):
    monkeypatch.delenv('M2DF_DEBUG', raising=False)
    seen = []

    def main(argv):
        seen.append(argv)
        raise UserInputError('bad')

    with pytest.raises(UserInputError):
        run_main(main, ['cfg.py', '--debug'], 'tool.py')
    assert seen[-1] == ['cfg.py']  # --debug is the boundary's, not main's
    monkeypatch.setenv('M2DF_DEBUG', '1')
    with pytest.raises(UserInputError):
        run_main(main, ['cfg.py'], 'tool.py')
    monkeypatch.setenv('M2DF_DEBUG', '0')
    assert run_main(main, ['cfg.py'], 'tool.py') == 1


def test_errors_of_other_code_keep_their_traceback(monkeypatch):
    """A ValueError raised outside the project (here: by this test file,
    as by torch or MMEngine) looks like a bug, not a bad input."""
    monkeypatch.delenv('M2DF_DEBUG', raising=False)
    with pytest.raises(ValueError):
        run_main(_raises(ValueError('deep inside a library')), [], 'tool.py')
    with pytest.raises(AssertionError):
        run_main(_raises(AssertionError('bug')), [], 'tool.py')
    # a file that does not exist is a bad input wherever it is raised
    assert run_main(_raises(FileNotFoundError('no x.txt')), [], 't') == 1
    # the project's own checks raise ValueError / KeyError: known
    cfg = Config(dict(model=dict(cls_head=dict())))
    try:
        check_cfg_options(cfg, {'model.cls_haed.x': 1})
    except KeyError as error:
        assert is_input_error(error)
    assert run_main(lambda argv: 3, [], 't') == 3
    assert run_main(lambda argv: dict(acc=1.0), [], 't') == 0


def test_error_of_a_dataloader_worker_is_named(capsys, monkeypatch):
    """torch re-raises a worker's error with its traceback as text."""
    from torch._utils import ExceptionWrapper
    monkeypatch.delenv('M2DF_DEBUG', raising=False)
    try:
        check_cfg_options(Config(dict(a=dict())), {'b.c': 1})
    except KeyError:
        wrapper = ExceptionWrapper(sys.exc_info(), 'in DataLoader worker '
                                   'process 0')
    try:
        wrapper.reraise()
    except KeyError as error:
        reraised = error
    assert is_input_error(reraised)
    assert run_main(_raises(reraised), [], 'train.py') == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == \
        "train.py: error: --cfg-options b.c: the config has no 'b'."


def test_num_workers_0_turns_persistent_workers_off():
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=0, persistent_workers=True),
            val_dataloader=dict(num_workers=2, persistent_workers=True),
            test_dataloader=dict(
                num_workers=0, persistent_workers=True, prefetch_factor=2)))
    changes = fix_persistent_workers(cfg)
    assert len(changes) == 2
    assert changes[0].startswith('train_dataloader: num_workers=0, so '
                                 'persistent_workers is set to False')
    assert 'prefetch_factor is dropped' in changes[1]
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True
    assert 'prefetch_factor' not in cfg.test_dataloader
    # the fixed loader is accepted by torch
    torch.utils.data.DataLoader([1, 2], **cfg.test_dataloader)
    assert fix_persistent_workers(cfg) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is here')
def test_amp_and_cuda_without_a_gpu_are_refused():
    check_amp(Config(dict(optim_wrapper=dict(type='OptimWrapper'))))
    with pytest.raises(UserInputError, match=r'^--amp .*needs a GPU.*'
                       'without --amp'):
        check_amp(Config(dict(optim_wrapper=dict(type='AmpOptimWrapper'))))
    check_device(None)
    check_device('cpu')
    with pytest.raises(UserInputError,
                       match=r"^device='cuda': no CUDA device here.*"
                       r"use device='cpu'"):
        check_device('cuda')
    with pytest.raises(UserInputError,
                       match=r'^--device cuda:1: no CUDA.*--device cpu'):
        check_device('cuda:1', '--device')
    with pytest.raises(UserInputError, match=r"^device='gpu' is not a "
                       'device name'):
        check_device('gpu')


def test_missing_data_files_are_named_before_the_run(tmp_path,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'otam_demo_5w1s.py'))
    with pytest.raises(FileNotFoundError) as error:
        check_data_files(cfg, ['train_dataloader', 'val_dataloader'])
    message = str(error.value)
    assert message.startswith(
        'train_dataloader.dataset.dataset.ann_file: the file '
        'data/synthetic/train.txt does not exist (relative to '
        f'{tmp_path}')
    assert '--cfg-options train_dataloader.dataset.dataset.ann_file=PATH' \
        in message
    (tmp_path / 'data' / 'synthetic').mkdir(parents=True)
    for name in ('train.txt', 'train_classes.txt'):
        (tmp_path / 'data' / 'synthetic' / name).write_text('x 0\n')
    check_data_files(cfg, ['train_dataloader'])  # all there
    with pytest.raises(FileNotFoundError, match='^val_dataloader.dataset'):
        check_data_files(cfg, ['val_dataloader'])
    cfg.train_dataloader.dataset.dataset.data_prefix.video = 'nowhere'
    with pytest.raises(FileNotFoundError, match=r'data_prefix.video: the '
                       'folder nowhere does not exist'):
        check_data_files(cfg, ['train_dataloader'])


def test_frozen_parameters_are_one_log_line():
    """MMEngine warns once per frozen parameter when paramwise_cfg is set;
    the package turns them into one line."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model.frozen = nn.Linear(2, 2)
    model.frozen.requires_grad_(False)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        DefaultOptimWrapperConstructor(
            dict(optimizer=dict(type='SGD', lr=0.1)),
            dict(flat_decay_mult=0.0))(model)
    finally:
        logger.removeHandler(handler)
    messages = [r.getMessage() for r in records]
    assert not [m for m in messages if 'is skipped since' in m], messages
    assert ('Optimizer: 2 parameters are frozen by the model '
            '(requires_grad=False) and not optimised: frozen.* (2)'
            ) in messages


def test_mmcv_lite_warning_is_silenced_at_source():
    """Importing the package first hides mmcv-lite's warning (and only
    it) from every later import of mmcv.cnn."""
    result = subprocess.run(
        [sys.executable, '-W', 'default', '-c',
         'import m2df_mmaction, mmcv.cnn, warnings; '
         'warnings.warn("another warning")'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'MultiScaleDeformableAttention' not in result.stderr
    assert 'another warning' in result.stderr


def test_file_client_deprecation_notices_are_dropped():
    """MMAction2's loading transforms make FileClients; MMEngine's notices
    about that API are not the user's to act on. Other messages pass."""
    from mmengine.fileio import FileClient, file_client
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        FileClient('disk')
        file_client.print_log('another message', logger='current')
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ['another message']
