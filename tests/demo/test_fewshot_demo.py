# Copyright (c) m2df_mmaction contributors.
"""demo/fewshot_demo.py end to end on generated clips."""
import importlib.util
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from matplotlib import image as mpimg
from mmaction.registry import MODELS
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py')


def load_demo():
    spec = importlib.util.spec_from_file_location(
        'fewshot_demo', osp.join(ROOT, 'demo', 'fewshot_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tiny_benchmark, tmp_path_factory):
    """A random tiny M2DF checkpoint, a 3-way 1-shot support folder and
    two held-out query clips of the tiny benchmark's novel classes."""
    work = tmp_path_factory.mktemp('demo')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    ckpt = str(work / 'm2df.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    test = osp.join(tiny_benchmark, 'videos', 'test')
    classes = sorted(os.listdir(test))[:3]
    for name in classes:
        os.makedirs(work / 'support' / name)
        shutil.copy(osp.join(test, name, '0.mp4'), work / 'support' / name)
    queries = [osp.join(test, classes[0], '1.mp4'),
               osp.join(test, classes[1], '1.mp4')]
    return dict(work=work, ckpt=ckpt, classes=classes, queries=queries,
                support=str(work / 'support'))


def test_demo_prints_the_table_and_writes_pictures(setup, capfd):
    out_dir = str(setup['work'] / 'out')
    code = load_demo().main([
        CONFIG, setup['ckpt'], '--support', setup['support'], '--query',
        *setup['queries'], '--out-dir', out_dir, '--device', 'cpu',
        '--batch-size', '1'
    ])
    stdout = capfd.readouterr().out  # the progress bar writes to fd 1
    assert code == 0
    assert 'support: 3 classes x 1 clips' in stdout
    assert '2/2' in stdout  # the progress bar: more queries than a batch
    header = next(line for line in stdout.splitlines()
                  if line.startswith('query'))
    assert 'predicted' in header and 'top-3 (probability)' in header
    preds = json.load(open(osp.join(out_dir, 'predictions.json')))
    assert len(preds) == 2
    for pred in preds:
        row = next(line for line in stdout.splitlines()
                   if line.startswith(osp.relpath(pred['video'])))
        assert pred['pred_class'] in row
        assert row.count(' 0.') + row.count(' 1.00') == 3  # top 3 listed
    assert 'queries predicted as the class folder they lie in' in stdout
    pngs = sorted(f for f in os.listdir(out_dir) if f.endswith('.png'))
    assert pngs == [f'000_{setup["classes"][0]}_1.png',
                    f'001_{setup["classes"][1]}_1.png']
    picture = mpimg.imread(osp.join(out_dir, pngs[0]))[..., :3]
    assert picture.shape[0] > 200 and picture.shape[1] > 600
    assert picture.std() > 0.1  # not blank
    colours = np.unique((picture * 255).astype(np.uint8).reshape(-1, 3),
                        axis=0)
    assert len(colours) > 200  # frames, lines and bars, not a flat image


def test_demo_with_a_support_list(setup, tmp_path, capsys):
    names = tmp_path / 'classes.txt'
    names.write_text('\n'.join(setup['classes']) + '\n')
    ann = tmp_path / 'support.txt'
    ann.write_text(''.join(
        f'{name}/0.mp4 {label}\n'
        for label, name in enumerate(setup['classes'])))
    code = load_demo().main([
        CONFIG, setup['ckpt'], '--support-list',
        str(ann), str(names), '--data-prefix', setup['support'], '--query',
        setup['queries'][0]
    ])
    stdout = capsys.readouterr().out
    assert code == 0
    assert f'support: 3 classes x 1 clips ({ann})' in stdout
    assert osp.relpath(setup['queries'][0]) in stdout


def test_demo_reports_bad_input(setup, tmp_path, capsys):
    missing = str(tmp_path / 'gone.mp4')
    code = load_demo().main([
        CONFIG, setup['ckpt'], '--support', setup['support'], '--query',
        setup['queries'][0], missing
    ])
    err = capsys.readouterr().err
    assert code == 1
    assert f'fewshot_demo: error: 1 of 2 query clips cannot be used:\n  ' \
        f'{missing} (query 1) does not exist' in err


@pytest.mark.parametrize('method', ['hyrsm', 'trx', 'd2st', 'tsfsar'])
def test_demo_pictures_of_the_baselines_with_two_shots(
        method, setup, tiny_benchmark, tmp_path):
    """HyRSM matches each support clip by itself ([K, T, T] paths: drawn
    to the first clip) and TRX's views are its attended tuples: both get
    their picture, with the matched frames drawn."""
    config = osp.join(ROOT, 'configs', f'{method}_demo_5w1s.py')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / f'{method}.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    test = osp.join(tiny_benchmark, 'videos', 'test')
    for name in setup['classes']:
        os.makedirs(tmp_path / 'support' / name)
        for clip in ('0.mp4', '2.mp4'):
            shutil.copy(osp.join(test, name, clip),
                        tmp_path / 'support' / name)
    out_dir = str(tmp_path / 'out')
    assert load_demo().main([
        config, ckpt, '--support', str(tmp_path / 'support'), '--query',
        setup['queries'][0], '--out-dir', out_dir, '--device', 'cpu'
    ]) == 0
    png = osp.join(out_dir, f'000_{setup["classes"][0]}_1.png')
    picture = mpimg.imread(png)[..., :3]
    assert picture.shape[0] > 300 and picture.std() > 0.05
