# Copyright (c) m2df_mmaction contributors.
"""tools/analysis: each tool writes a PNG a person can look at.

The tools run in-process on the tiny synthetic benchmark with randomly
initialised checkpoints of the demo configs (4 frames, a few episodes).
"""
import importlib.util
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from matplotlib import image as mpimg
from mmaction.registry import MODELS
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OTAM = osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')
PROTONET = osp.join(ROOT, 'configs', 'protonet_demo_5w1s.py')
# 4 frames per video, no worker processes.
SMALL = ['--cfg-options', 'test_dataloader.dataset.dataset.pipeline.1.'
         'num_clips=4']


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'm2df_analysis_{name}',
        osp.join(ROOT, 'tools', 'analysis', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_picture(path, min_size=(150, 300)):
    """The PNG exists, is large enough and is not blank."""
    assert osp.isfile(path)
    assert osp.getsize(path) < 300 * 1024
    pixels = mpimg.imread(path)[..., :3]
    assert pixels.shape[0] >= min_size[0] and pixels.shape[1] >= min_size[1]
    assert pixels.std() > 0.01
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8),
                        axis=0)
    assert len(colours) > 20, len(colours)


def save_random_checkpoint(config, path):
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


@pytest.fixture
def bench_dir(tiny_benchmark, tmp_path, monkeypatch):
    """A working directory whose data/synthetic is the tiny benchmark."""
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_benchmark, tmp_path / 'data' / 'synthetic')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tsne_two_checkpoints(bench_dir):
    ckpt = save_random_checkpoint(OTAM, str(bench_dir / 'otam.pth'))
    ckpt2 = save_random_checkpoint(PROTONET, str(bench_dir / 'proto.pth'))
    out = str(bench_dir / 'tsne.png')
    load_tool('tsne').main([
        OTAM, ckpt, '--ckpt2', ckpt2, '--config2', PROTONET, '--out', out,
        '--episodes', '3', *SMALL
    ])
    assert_picture(out)


def test_per_class_accuracy_models_and_dumps(bench_dir):
    ckpt = save_random_checkpoint(OTAM, str(bench_dir / 'otam.pth'))
    tool = load_tool('per_class_accuracy')
    out = str(bench_dir / 'per_class.png')
    tool.main([
        OTAM, ckpt, '--ckpt2', ckpt, '--config2', PROTONET, '--out', out,
        '--episodes', '3', *SMALL
    ])
    assert_picture(out)

    # the test loop's counts are those of decoding every episode
    options = {SMALL[1].split('=')[0]: 4}
    counts = tool.counts_from_model(OTAM, ckpt, 3, options)
    common = load_tool('_common')
    cfg = common.load_config(OTAM, options)
    model = common.load_model(cfg, ckpt)
    episodes = [
        (common.episode_predictions(model, feats, sample),
         sample.gt_label.tolist(), sample.metainfo['class_names'])
        for feats, sample in common.iter_episodes(
            model, common.build_test_episodes(cfg, 3))
    ]
    assert counts == tool.count(episodes)
    assert sum(total for _, total in counts.values()) == 3 * 5

    # the same from `tools/test.py --dump` pickles (flattened data samples)
    names = ['a', 'b', 'c', 'd', 'e', 'f']
    dumps = []
    for i, preds in enumerate(([0, 1, 2, 3, 4], [0, 0, 0, 3, 4])):
        path = str(bench_dir / f'dump{i}.pkl')
        with open(path, 'wb') as f:
            pickle.dump([
                dict(
                    pred_label=torch.tensor(preds),
                    gt_label=torch.arange(5),
                    class_ids=[0, 1, 2, 3, 5],
                    class_names=[names[c] for c in (0, 1, 2, 3, 5)])
            ], f)
        dumps.append(path)
    counts = tool.counts_from_dump(dumps[1])
    assert counts['a'] == (1, 1) and counts['b'] == (0, 1)
    out = str(bench_dir / 'per_class_dump.png')
    tool.main(['--dump', *dumps, '--out', out])
    assert_picture(out)


def test_attention_maps(bench_dir):
    ckpt = save_random_checkpoint(OTAM, str(bench_dir / 'otam.pth'))
    out = str(bench_dir / 'attention.png')
    load_tool('attention_maps').main([OTAM, ckpt, '--out', out, *SMALL])
    assert_picture(out)


def test_attention_rollout_rows_are_distributions():
    tool = load_tool('attention_maps')
    weights = [torch.rand(2, 5, 5).softmax(-1) for _ in range(3)]
    cls = tool.cls_attention(weights, 'rollout')
    assert cls.shape == (2, 4)
    assert (cls > 0).all() and (cls.sum(-1) < 1).all()
    assert torch.equal(
        tool.cls_attention(weights, 'last'), weights[-1][:, 0, 1:])


def test_plot_curves(tmp_path):
    vis = tmp_path / 'work' / '20240101_000000' / 'vis_data'
    os.makedirs(vis)
    with open(vis / 'scalars.json', 'w') as f:
        for it in range(10, 101, 10):
            f.write(json.dumps(dict(loss=2 - it / 100, loss_cls=1.6,
                                    loss_distill=0.4 - it / 1000,
                                    iter=it, step=it)) + '\n')
            if it % 50 == 0:  # IterBasedTrainLoop logs step 0 (epoch)
                f.write(json.dumps({'fewshot/accuracy': 20 + it / 10,
                                    'fewshot/ci95': 2.0, 'step': 0}) + '\n')
    tool = load_tool('plot_curves')
    train, val = tool.read_scalars(tool.find_scalars(str(tmp_path / 'work')))
    assert [s for s, _ in val['fewshot/accuracy']] == [50, 100]
    assert set(train) == {'loss', 'loss_cls', 'loss_distill'}
    out = str(tmp_path / 'curves.png')
    tool.main([str(tmp_path / 'work'), '--out', out])
    assert_picture(out)


@pytest.mark.parametrize('pair', [('trx', 'molo'), ('hyrsm', 'hyrsmpp'),
                                  ('d2st', 'otam'), ('tsfsar', 'protonet')])
def test_per_class_accuracy_and_tsne_of_the_baselines(bench_dir, pair):
    """The analysis tools read TRX, HyRSM, HyRSM++ and MoLo checkpoints
    (MoLo: spatial maps through the same episodes), at TRX's 8 frames."""
    configs = [osp.join(ROOT, 'configs', f'{m}_demo_5w1s.py') for m in pair]
    ckpts = [save_random_checkpoint(c, str(bench_dir / f'{m}.pth'))
             for c, m in zip(configs, pair)]
    small = [SMALL[0], SMALL[1].replace('=4', '=8')]
    out = str(bench_dir / 'per_class.png')
    load_tool('per_class_accuracy').main([
        configs[0], ckpts[0], '--ckpt2', ckpts[1], '--config2', configs[1],
        '--out', out, '--episodes', '2', *small
    ])
    assert_picture(out)
    out = str(bench_dir / 'tsne.png')
    load_tool('tsne').main([
        configs[0], ckpts[0], '--ckpt2', ckpts[1], '--config2', configs[1],
        '--out', out, '--episodes', '2', *small
    ])
    assert_picture(out)
