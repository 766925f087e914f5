# Copyright (c) m2df_mmaction contributors.
"""Run any method config on a dataset written by ``build_fewshot_ann.py``.

MMEngine refuses a key defined in two ``_base_`` files, so a method config
and a dataset config cannot simply be based on together. Instead a config
names the dataset with one top-level key, ``fewshot_dataset`` (the
``dataset_config.py`` the tool wrote, or its folder), given in a config
(``_base_ = [METHOD]; fewshot_dataset = '...'``) or on the command line
(``--cfg-options fewshot_dataset=...``). :func:`apply_fewshot_dataset`,
called by ``tools/train.py`` and ``tools/test.py`` after the command-line
options, then sets in every dataloader the annotation file, the data
prefix, the class-name file and the dataset type; makes the pipelines read
frame folders where the input is frames; fits ``num_ways`` and
``num_queries`` to the class and video counts; and turns validation off,
with one log line, where the dataset has no val split. The method's
pipelines, batch sizes, loops and episode counts stay as they are.
"""
import logging
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from m2df_mmaction.datasets.dataset_config import DATASET_CONFIG

__all__ = ['FEWSHOT_DATASET_KEY', 'load_dataset_config',
           'apply_fewshot_dataset', 'dataset_notes']

FEWSHOT_DATASET_KEY = 'fewshot_dataset'
# Drop-in replacements that also read frame folders (transforms/loading.py).
_FRAME_READERS = dict(DecordInit='VideoOrFramesInit',
                      DecordDecode='VideoOrFramesDecode')
_LOADERS = dict(train='train_dataloader', val='val_dataloader',
                test='test_dataloader')
_LOOPS = dict(val=('val_cfg', 'val_evaluator'),
              test=('test_cfg', 'test_evaluator'))


def _log(msg: str) -> None:
    print_log(f'fewshot_dataset: {msg}', logger='current')


def load_dataset_config(path: str) -> Config:
    """Read a ``dataset_config.py`` (or the folder holding one).

    Raises:
        FileNotFoundError: Naming the path and the tool that writes it.
        ValueError: When a key the tools write is missing.
    """
    if osp.isdir(path):
        path = osp.join(path, DATASET_CONFIG)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{FEWSHOT_DATASET_KEY}={path}: no such file (from '
            f'{osp.abspath(".")}). Write it with `python '
            'tools/data/build_fewshot_ann.py --dataset custom --video-root '
            'DIR --out OUT` (docs/data_preparation.md).')
    ds = Config.fromfile(path)
    missing = [k for k in ('data_root', 'input_dir', 'dataset_type',
                           'splits') if k not in ds]
    if missing:
        raise ValueError(f'{FEWSHOT_DATASET_KEY}={path} has no {missing}: '
                         'rewrite it with tools/data/build_fewshot_ann.py.')
    ds.filename = path
    return ds


def _read_frames(pipeline: Optional[list]) -> bool:
    """Swap DecordInit/DecordDecode for the readers of both inputs."""
    swapped = False
    for t in pipeline or []:
        if isinstance(t, dict) and t.get('type') in _FRAME_READERS:
            t['type'] = _FRAME_READERS[t['type']]
            swapped = True
    return swapped


def _fit_episodes(ep: ConfigDict, split: str, summary: dict,
                  source: str) -> None:
    """Fewer ways / queries where the split has too few classes / videos
    (each said in a log line)."""
    classes, videos = summary['num_classes'], summary['min_videos']
    ways, shots = ep.get('num_ways', 5), ep.get('num_shots', 1)
    queries = ep.get('num_queries', 1)
    if classes < 2 or videos < shots + 1:
        raise ValueError(
            f'{source}: the {split} split has {classes} classes with at '
            f'least {videos} videos each; {ways}-way {shots}-shot episodes '
            f'need 2 classes and {shots} + 1 videos per class. Add videos '
            'or classes, or use a config with fewer shots.')
    notes = []
    if classes < ways:
        ep.num_ways = classes
        notes.append(f'{split}: {classes} classes, so {classes}-way '
                     f'episodes instead of {ways}-way.')
    if videos < shots + queries:
        ep.num_queries = videos - shots
        notes.append(f'{split}: a class has only {videos} videos, so '
                     f'{videos - shots} queries per class instead of '
                     f'{queries}.')
    for note in notes:
        _log(note)


def _set_split(cfg: Config, ds: Config, split: str, summary: dict,
               used: bool) -> None:
    """Point a loader at the split; fit (and announce) its episodes where
    the tool runs it (``used``)."""
    loader = cfg.get(_LOADERS[split])
    ep = loader.dataset
    inner = ep.dataset if 'dataset' in ep else ep
    root = f'{ds.data_root}/{ds.input_dir}'
    inner.type = ds.dataset_type
    inner.ann_file = summary['ann_file']
    if ds.dataset_type == 'RawframeDataset':
        inner.data_prefix = dict(img=root)
        inner.filename_tmpl = ds.get('filename_tmpl', 'img_{:05}.jpg')
        inner.start_index = ds.get('start_index', 1)
    else:
        inner.data_prefix = dict(video=root)
    if ds.input_dir != 'videos':
        swapped = [_read_frames(inner.get('pipeline')),
                   _read_frames(ep.get('query_pipeline'))]
        if any(swapped) and used:
            _log(f'{split}: DecordInit/DecordDecode -> VideoOrFramesInit/'
                 f'VideoOrFramesDecode, to read the {ds.input_dir}.')
    if inner is not ep:  # an EpisodicDataset
        ep.class_names = summary['class_names']
        if used:
            _fit_episodes(ep, split, summary, ds.filename)


def _turn_off(cfg: Config, split: str) -> None:
    cfg[_LOADERS[split]] = None
    for key in _LOOPS[split]:
        cfg[key] = None


def apply_fewshot_dataset(cfg: Config, mode: str = 'train') -> None:
    """Put the dataset of ``cfg.fewshot_dataset`` into every dataloader.

    Does nothing when the config has no ``fewshot_dataset`` (or it is None).
    Splits of the dataset config that are None (no classes) turn their
    loader off; the one the tool runs on (``mode``) is refused instead.

    Args:
        cfg (Config): A method config, changed in place.
        mode (str): ``'train'`` (the train split must exist; no val split:
            validation off, one log line) or ``'test'`` (the test split
            must exist).

    Raises:
        FileNotFoundError: The dataset config or an annotation file is
            not there.
        ValueError: The split ``mode`` needs is empty, or its classes have
            too few videos for the config's shots.
    """
    path = cfg.get(FEWSHOT_DATASET_KEY, None)
    if not path:
        for note in dataset_notes(cfg) if mode == 'train' else []:
            print_log(note, logger='current', level=logging.WARNING)
        return
    ds = load_dataset_config(path)
    used = ('train', 'val') if mode == 'train' else (mode, )
    for split in _LOADERS:
        summary = ds.splits.get(split)
        if cfg.get(_LOADERS[split]) is None:
            continue
        if summary is None:
            if split == mode:
                raise ValueError(
                    f'{ds.filename}: the {split} split is empty; '
                    f'tools/{mode}.py needs one (rebuild the dataset with '
                    'build_fewshot_ann.py --split-ratio or --class-splits).')
            if split == 'val' and mode == 'train':
                _log(f'{ds.filename} has no val split: validation is OFF '
                     '(no best checkpoint; the last one is kept).')
            if split in _LOOPS:  # (an unused train loop stays as it is)
                _turn_off(cfg, split)
            continue
        if not osp.isfile(summary['ann_file']):
            if split not in used:
                continue
            raise FileNotFoundError(
                f'{ds.filename}: {split} annotation file '
                f'{summary["ann_file"]} not found (from {osp.abspath(".")}; '
                'data_root is relative to the folder the tools run in).')
        _set_split(cfg, ds, split, summary, used=split in used)
    _log(f'{ds.filename}: {ds.input_dir} under {ds.data_root}.')


def dataset_notes(cfg: Config) -> List[str]:
    """Where a config's val split reads another folder than its train
    split, or its val annotation file is missing (without
    ``fewshot_dataset``; a plain config)."""
    def ann(name):
        loader = cfg.get(name) or {}
        ds = loader.get('dataset', {}) or {}
        return (ds.get('dataset') or ds).get('ann_file')

    train, val = ann('train_dataloader'), ann('val_dataloader')
    if not (isinstance(train, str) and isinstance(val, str)):
        return []
    notes = []
    if osp.isfile(train) and not osp.isfile(val):
        notes.append(f'val_dataloader reads {val}, which is not there; '
                     'validation will fail (--no-validate turns it off).')
    elif osp.dirname(osp.abspath(train)) != osp.dirname(osp.abspath(val)):
        notes.append(f'validation reads {val}, training reads {train} '
                     '(another folder): is that the dataset you mean?')
    return notes
