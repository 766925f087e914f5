# Copyright (c) m2df_mmaction contributors.
"""fewshot_dataset=...: a dataset config put into any method config."""
import copy
import glob
import logging
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from m2df_mmaction.datasets.dataset_config import (summaries_from_files,
                                                   write_dataset_config)
from m2df_mmaction.utils import apply_fewshot_dataset, check_cfg_options
from m2df_mmaction.utils.fewshot_dataset import dataset_notes

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHOD_CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
FRAME_READERS = {'VideoOrFramesInit', 'VideoOrFramesDecode'}


def write_dataset(out, classes, videos, input_dir='videos'):
    """Annotation files of ``classes[split]`` classes with ``videos[split]``
    videos each, and the dataset config the tool would write."""
    ann = out / 'annotations'
    ann.mkdir(parents=True, exist_ok=True)
    for split, n in classes.items():
        (ann / f'{split}_classes.txt').write_text(
            ''.join(f'{split} {c}\n' for c in range(n)))
        (ann / f'{split}.txt').write_text(''.join(
            f'c{c}/{v}.mp4 {c}\n' for c in range(n)
            for v in range(videos[split])))
    return write_dataset_config(str(out), summaries_from_files(str(ann)),
                                input_dir=input_dir)


@pytest.fixture
def logs():
    """The messages of the current MMEngine logger."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield lambda: '\n'.join(r.getMessage() for r in records)
    logger.removeHandler(handler)


def pipelines(cfg):
    for name in LOADERS:
        loader = cfg.get(name)
        if not loader:
            continue
        ds = loader.dataset
        inner = ds.get('dataset', ds)
        yield name, inner.get('pipeline') or []
        if ds.get('query_pipeline'):
            yield name, ds.query_pipeline


@pytest.mark.parametrize('config', METHOD_CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_every_shipped_pipeline_reads_videos_and_frames(config):
    cfg = Config.fromfile(config)
    found = 0
    for name, pipeline in pipelines(cfg):
        types = [t['type'] for t in pipeline]
        assert not {'DecordInit', 'DecordDecode', 'RawFrameDecode'} & set(
            types), (name, types)
        assert FRAME_READERS <= set(types), (name, types)
        found += 1
    assert found >= 2


@pytest.mark.parametrize('config', METHOD_CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_every_method_config_takes_the_dataset(config, tmp_path, logs):
    path = write_dataset(tmp_path / 'mine', dict(train=7, val=3, test=4),
                         dict(train=8, val=6, test=6), input_dir='frames')
    classes = dict(train=7, val=3, test=4)
    for mode, used in (('train', ('train', 'val')), ('test', ('test', ))):
        cfg = Config.fromfile(config)
        before = {n: cfg[n].dataset.get('num_ways') for n in LOADERS}
        cfg.fewshot_dataset = path
        apply_fewshot_dataset(cfg, mode)
        for name, split in zip(LOADERS, ('train', 'val', 'test')):
            ds = cfg[name].dataset
            inner = ds.get('dataset', ds)
            assert inner.ann_file == \
                f'{tmp_path}/mine/annotations/{split}.txt'
            assert inner.data_prefix == \
                dict(video=f'{tmp_path}/mine/frames')
            if before[name] is None:  # a plain VideoDataset (mixing/tsn)
                continue
            assert ds.class_names == \
                f'{tmp_path}/mine/annotations/{split}_classes.txt'
            # episodes fitted where the tool runs them, not elsewhere
            assert ds.num_ways == (min(before[name], classes[split])
                                   if split in used else before[name])
            if split in used:  # K + Q within the fewest videos of a class
                assert ds.num_shots + ds.num_queries <= dict(
                    train=8, val=6, test=6)[split]
        if before['val_dataloader'] == 5 and mode == 'train':
            assert 'val: 3 classes, so 3-way episodes instead of 5-way' \
                in logs()
        if before['test_dataloader'] == 5 and mode == 'test':
            assert 'test: 4 classes, so 4-way' in logs()


def test_test_py_ignores_the_splits_it_does_not_run(tmp_path):
    # 5-shot on a train split of 4 videos per class and no train classes:
    # neither matters to tools/test.py
    path = write_dataset(tmp_path / 'a', dict(train=5, val=0, test=5),
                         dict(train=4, val=0, test=6))
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'm2df_hmdb51_5w5s.py'))
    cfg.fewshot_dataset = path
    apply_fewshot_dataset(cfg, 'test')
    assert cfg.test_dataloader.dataset.num_shots == 5
    assert cfg.val_dataloader is None
    path = write_dataset(tmp_path / 'b', dict(train=0, val=0, test=5),
                         dict(train=0, val=0, test=6))
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'm2df_hmdb51_5w5s.py'))
    cfg.fewshot_dataset = path
    apply_fewshot_dataset(cfg, 'test')
    assert cfg.train_dataloader is not None  # unused, left as it was
    assert cfg.test_dataloader.dataset.dataset.ann_file.startswith(
        str(tmp_path / 'b'))
    with pytest.raises(ValueError, match='the train split is empty'):
        apply_fewshot_dataset(cfg, 'train')


def test_empty_val_turns_validation_off_with_one_line(tmp_path, logs):
    path = write_dataset(tmp_path / 'mine', dict(train=5, val=0, test=5),
                         dict(train=6, val=0, test=2))
    assert 'val=None' in open(path).read()
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py'))
    cfg.fewshot_dataset = path
    apply_fewshot_dataset(cfg, 'train')
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.val_evaluator is None
    assert logs().count('no val split: validation is OFF') == 1
    # the test split is there; with test.py its loader is set, val stays off
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py'))
    cfg.fewshot_dataset = osp.dirname(path)  # the folder works too
    apply_fewshot_dataset(cfg, 'test')
    assert cfg.test_dataloader.dataset.dataset.ann_file.endswith('test.txt')
    assert logs().count('validation is OFF') == 1  # not said by test.py


def test_refusals_name_the_file_and_the_fix(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'otam_demo_5w1s.py'))
    cfg.fewshot_dataset = str(tmp_path / 'nothing' / 'dataset_config.py')
    with pytest.raises(FileNotFoundError, match='build_fewshot_ann.py'):
        apply_fewshot_dataset(cfg, 'test')
    # no test split: test.py refuses, train.py turns only the test loop off
    path = write_dataset(tmp_path / 'a', dict(train=5, val=5, test=0),
                         dict(train=6, val=2, test=0))
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'otam_demo_5w1s.py'))
    cfg.fewshot_dataset = path
    with pytest.raises(ValueError, match='the test split is empty'):
        apply_fewshot_dataset(copy.deepcopy(cfg), 'test')
    apply_fewshot_dataset(cfg, 'train')
    assert cfg.test_dataloader is None and cfg.val_dataloader is not None
    # 5-shot on classes of 5 videos: refused, not silently 4-shot
    path = write_dataset(tmp_path / 'b', dict(train=5, val=5, test=5),
                         dict(train=5, val=5, test=5))
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'm2df_hmdb51_5w5s.py'))
    cfg.fewshot_dataset = path
    with pytest.raises(ValueError, match='5 \\+ 1 videos per class'):
        apply_fewshot_dataset(cfg, 'train')
    # an annotation file the dataset config names is gone
    (tmp_path / 'b' / 'annotations' / 'train.txt').unlink()
    cfg.fewshot_dataset = path
    with pytest.raises(FileNotFoundError, match='train annotation file'):
        apply_fewshot_dataset(cfg, 'train')


def test_cfg_options_key_and_plain_config_notes(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'otam_demo_5w1s.py'))
    check_cfg_options(cfg, {'fewshot_dataset': 'x'})  # the one new key
    with pytest.raises(KeyError):
        check_cfg_options(cfg, {'fewshot_datset': 'x'})
    # without fewshot_dataset: a val split in another folder is announced
    for name in ('mine', 'other'):
        write_dataset(tmp_path / name, dict(train=5, val=5, test=5),
                      dict(train=6, val=2, test=2))
    cfg.train_dataloader.dataset.dataset.ann_file = \
        str(tmp_path / 'mine' / 'annotations' / 'train.txt')
    cfg.val_dataloader.dataset.dataset.ann_file = \
        str(tmp_path / 'other' / 'annotations' / 'val.txt')
    notes = dataset_notes(cfg)
    assert len(notes) == 1 and 'another folder' in notes[0]
    cfg.val_dataloader.dataset.dataset.ann_file = str(tmp_path / 'no.txt')
    assert 'not there' in dataset_notes(cfg)[0]
    cfg.val_dataloader.dataset.dataset.ann_file = \
        str(tmp_path / 'mine' / 'annotations' / 'val.txt')
    assert dataset_notes(cfg) == []
