# Copyright (c) m2df_mmaction contributors.
"""tools/check_result.py: a run's test accuracy against the measured one."""
import importlib.util
import json
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'otam_tiny-clip-world_demo_5w1s.py')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'check_result', osp.join(ROOT, 'tools', 'check_result.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _work_dir(tmp_path, accuracy=None, seed=None):
    work = tmp_path / 'work'
    work.mkdir(parents=True)
    # what tools/train.py leaves there: the flattened config
    cfg = Config.fromfile(CONFIG)
    if seed is not None:
        cfg.randomness.seed = seed
    cfg.dump(str(work / 'otam_tiny-clip-world_demo_5w1s.py'))
    # a training run: validation lines carry a step and must be ignored
    train = work / '20260101_000000'
    train.mkdir()
    (train / '20260101_000000.json').write_text(
        json.dumps({'fewshot/accuracy': 10.0, 'step': 250}) + '\n')
    if accuracy is not None:
        test = work / '20260101_000100'
        test.mkdir()
        (test / '20260101_000100.json').write_text(json.dumps(
            {'fewshot/accuracy': accuracy, 'fewshot/ci95': 0.6}))
    return str(work)


def _expected(tool, name='otam_tiny-clip-world_demo_5w1s', seed='0'):
    with open(tool.EXPECTED) as f:
        return float(json.load(f)['configs'][name]['accuracy'][seed])


def test_inside_and_outside_the_range(tool, tmp_path, capsys):
    want = _expected(tool)
    inside = _work_dir(tmp_path / 'a', accuracy=want + 1.0)
    assert tool.main([inside]) == 0
    assert 'OK, in the expected range' in capsys.readouterr().out
    outside = _work_dir(tmp_path / 'b', accuracy=want - 2.0)
    assert tool.main([outside]) == 1
    out = capsys.readouterr().out
    assert 'OUTSIDE the expected range' in out
    assert f'{want - 2.0:.2f}' in out


def test_the_seed_of_the_run_picks_the_figure(tool, tmp_path, capsys):
    want = _expected(tool, seed='2')
    work = _work_dir(tmp_path, accuracy=want, seed=2)
    assert tool.main([work]) == 0
    assert f'seed 2: accuracy {want:.2f}' in capsys.readouterr().out


def test_nothing_to_compare(tool, tmp_path, capsys):
    work = _work_dir(tmp_path)  # trained, never tested
    assert tool.main([work]) == 2
    assert 'no test result' in capsys.readouterr().out
    assert tool.main([str(tmp_path / 'missing')]) == 2
    assert 'is not a folder' in capsys.readouterr().out
