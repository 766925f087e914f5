# Copyright (c) m2df_mmaction contributors.
"""Tests of the synthetic few-shot video benchmark generator."""
import json
import os.path as osp

import decord
import numpy as np
import pytest

from m2df_mmaction.synthetic import motion_benchmark as S

TINY = dict(
    seed=3,
    videos_per_class={'train': 3, 'val': 2, 'test': 2},
    pairs_per_split={'train': 2, 'val': 1, 'test': 1},
    num_frames=12,
    size=32)


@pytest.fixture(scope='module')
def bench(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('synth') / 'bench')
    manifest = S.write_benchmark(out, **TINY)
    return out, manifest


def _read_ann(out, split):
    with open(osp.join(out, f'{split}.txt')) as f:
        rows = [line.split() for line in f.read().splitlines() if line]
    with open(osp.join(out, f'{split}_classes.txt')) as f:
        names = f.read().splitlines()
    return [(p, int(label)) for p, label in rows], names


def test_catalogue_pairs_are_in_same_split_and_disjoint():
    seen = set()
    for split in S.SPLITS:
        classes = S.get_split_classes(split)
        names = [c.name for c in classes]
        assert len(set(names)) == len(names)
        assert not seen & set(names)
        seen |= set(names)
        for c in classes:
            assert c.partner in names and c.partner != c.name
    assert [len(S.get_split_classes(s)) for s in S.SPLITS] == [24, 8, 16]
    # every test family is also seen in training, except orbit (novel)
    train_fam = {c.family for c in S.get_split_classes('train')}
    assert {c.family for c in S.get_split_classes('test')} - train_fam <= {
        'orbit'}


def test_files_and_annotations(bench):
    out, manifest = bench
    assert manifest['complete']
    all_names = []
    for split in S.SPLITS:
        rows, names = _read_ann(out, split)
        n_cls = 2 * TINY['pairs_per_split'][split]
        n_vid = TINY['videos_per_class'][split]
        assert len(names) == n_cls
        expected = S.get_split_classes(split, n_cls // 2)
        assert names == [c.name for c in expected]
        labels = [label for _, label in rows]
        assert min(labels) == 0 and max(labels) == n_cls - 1
        assert np.bincount(labels).tolist() == [n_vid] * n_cls
        assert manifest['counts'][split]['videos'] == len(rows)
        for path, label in rows:
            assert path.startswith(f'videos/{split}/')
            assert path.split('/')[2] == S.get_split_classes(split)[label].slug
            assert osp.isfile(osp.join(out, path))
        all_names += names
    assert len(all_names) == len(set(all_names))  # splits are disjoint
    # decode back through decord: frame count, size, RGB close to the render
    path, label = _read_ann(out, 'test')[0][0]
    vr = decord.VideoReader(osp.join(out, path))
    frames = vr.get_batch(list(range(len(vr)))).asnumpy()
    assert frames.shape == (TINY['num_frames'], 32, 32, 3)
    assert frames.dtype == np.uint8
    cls = S.get_split_classes('test')[label]
    p = S.sample_video_params(S._video_rng(TINY['seed'], 'test', label, 0),
                              cls)
    raw = S.render_video(cls, p, num_frames=TINY['num_frames'], size=32)
    assert np.abs(frames.astype(int) - raw).mean() < 12


def test_render_shape_and_determinism():
    cls = S.get_split_classes('train')[0]
    a = S.render_video(cls, S.sample_video_params(np.random.default_rng(7),
                                                  cls), num_frames=16, size=48)
    b = S.render_video(cls, S.sample_video_params(np.random.default_rng(7),
                                                  cls), num_frames=16, size=48)
    c = S.render_video(cls, S.sample_video_params(np.random.default_rng(8),
                                                  cls), num_frames=16, size=48)
    assert a.shape == (16, 48, 48, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[-1])  # something moves


def test_same_seed_same_files(bench, tmp_path):
    out, _ = bench
    out2 = str(tmp_path / 'again')
    S.write_benchmark(out2, **TINY)
    for split in S.SPLITS:
        assert _read_ann(out, split) == _read_ann(out2, split)
    path = _read_ann(out, 'train')[0][-1][0]
    with open(osp.join(out, path), 'rb') as f1, \
            open(osp.join(out2, path), 'rb') as f2:
        assert f1.read() == f2.read()


@pytest.mark.parametrize('trail', [0, 2])
def test_partners_are_time_reversals(trail):
    for split in S.SPLITS:
        classes = S.get_split_classes(split)
        names = [c.name for c in classes]
        for i, cls in enumerate(classes):
            j = names.index(cls.partner)
            assert j == i ^ 1  # pairs are adjacent labels
            p = S.sample_video_params(np.random.default_rng(i), cls)
            kw = dict(num_frames=8, size=32, trail=trail)
            a = S.render_video(cls, p, **kw)
            b = S.render_video(classes[j], p, **kw)
            assert np.array_equal(a, b[::-1])
            # order matters: the video is not its own reversal
            assert not np.array_equal(a, a[::-1])
            # and the temporal mean cannot tell them apart
            assert np.array_equal(a.mean(0), b.mean(0))


def test_rerun_is_noop_and_mismatch_raises(bench):
    out, manifest = bench
    mtime = osp.getmtime(osp.join(out, 'manifest.json'))
    again = S.write_benchmark(out, **TINY)
    assert again == json.load(open(osp.join(out, 'manifest.json')))
    assert osp.getmtime(osp.join(out, 'manifest.json')) == mtime
    with pytest.raises(FileExistsError, match='other parameters'):
        S.write_benchmark(out, **dict(TINY, seed=4))
    with pytest.raises(FileExistsError, match='delete'):
        S.write_benchmark(out, **dict(TINY, size=48))


def test_refuses_foreign_folder(tmp_path):
    (tmp_path / 'something.txt').write_text('x')
    with pytest.raises(FileExistsError, match='no manifest'):
        S.write_benchmark(str(tmp_path), **TINY)


def test_cli(tmp_path, capsys):
    import importlib.util
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        'make_synthetic', osp.join(root, 'tools', 'data', 'make_synthetic.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    argv = ['--out', str(tmp_path / 'b'), '--size', '32', '--num-frames',
            '10', '--train-videos', '2', '--val-videos', '1',
            '--test-videos', '1', '--train-pairs', '1', '--val-pairs', '1',
            '--test-pairs', '1']
    assert mod.main(argv) == 0
    assert 'train:' in capsys.readouterr().out
    assert mod.main(argv) == 0
    assert 'already complete' in capsys.readouterr().out
    assert mod.main(argv[:2] + ['--seed', '5'] + argv[2:]) == 1
