# Copyright (c) m2df_mmaction contributors.
"""Cheap checks of a run's inputs, before the Runner prints its config.

MMEngine's Runner logs the environment and the whole config (~400 lines)
before it builds a dataloader or an optimizer wrapper, so a wrong path, an
``--amp`` without a GPU or ``num_workers=0`` used to fail after all of it,
under a long traceback. The tools call these first:

- :func:`fix_persistent_workers`: ``num_workers=0`` with the configs'
  ``persistent_workers=True`` (torch refuses the pair) turns persistence
  off, with a log line;
- :func:`check_amp`: ``AmpOptimWrapper`` (``--amp``) on a machine without
  an accelerator is refused, saying so;
- :func:`check_device`: a device that is not here (``cuda`` without a GPU)
  is refused, saying which device to use;
- :func:`check_data_files`: the annotation files, class-name files and
  data folders of the dataloaders a run uses exist;
- :func:`check_head_classes`: a head with a classifier over the training
  classes (HyRSM, MoLo: ``num_classes``, the recipes' ``TRAIN.NUM_CLASS``)
  has an output for every class of the training split.
"""
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config

from .errors import UserInputError

__all__ = [
    'fix_persistent_workers', 'check_amp', 'check_device', 'check_data_files',
    'check_head_classes'
]

_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def fix_persistent_workers(cfg: Config) -> List[str]:
    """Turn ``persistent_workers`` off where ``num_workers`` is 0.

    torch's ``DataLoader`` refuses ``persistent_workers=True`` (and a
    ``prefetch_factor``) without worker processes; with none there is
    nothing to keep alive, so nothing else changes.

    Args:
        cfg (Config): The config (changed in place).

    Returns:
        list[str]: One line per changed dataloader, for the log.
    """
    changes = []
    for name in _LOADERS:
        loader = cfg.get(name)
        if not isinstance(loader, dict) or loader.get('num_workers', 0):
            continue
        dropped = []
        if loader.get('persistent_workers'):
            loader['persistent_workers'] = False
            dropped.append('persistent_workers is set to False')
        if loader.get('prefetch_factor') is not None:
            loader.pop('prefetch_factor')
            dropped.append('prefetch_factor is dropped')
        if dropped:
            changes.append(f'{name}: num_workers=0, so '
                           f'{" and ".join(dropped)} (torch allows them '
                           'only with worker processes)')
    return changes


def _accelerator() -> Optional[str]:
    """The accelerator MMEngine's AmpOptimWrapper accepts, if any."""
    from mmengine import device
    for name in ('cuda', 'npu', 'mlu', 'musa'):
        available = getattr(device, f'is_{name}_available', None)
        if available is not None and available():
            return name
    return None


def check_amp(cfg: Config) -> None:
    """Refuse mixed precision (``AmpOptimWrapper``) without an accelerator.

    MMEngine's ``AmpOptimWrapper`` runs on CUDA, NPU, MLU and MUSA devices
    only (it asserts so when the Runner builds it, after the config dump).

    Raises:
        UserInputError: Saying to train without ``--amp`` on this machine.
    """
    wrapper = cfg.get('optim_wrapper') or {}
    if not isinstance(wrapper, dict) or \
            wrapper.get('type') != 'AmpOptimWrapper' or _accelerator():
        return
    raise UserInputError(
        '--amp (optim_wrapper.type=AmpOptimWrapper): mixed precision '
        'training needs a GPU (MMEngine\'s AmpOptimWrapper runs on CUDA, '
        'NPU, MLU or MUSA devices) and this machine has none. Train '
        'without --amp here (full fp32 on the CPU).')


def _no_cuda_reason() -> str:
    if torch.version.cuda is None:
        return f'this torch {torch.__version__} is a CPU-only build'
    return 'torch.cuda.is_available() is False'


def check_device(device: Union[None, str, torch.device],
                 option: str = 'device') -> None:
    """Refuse a device that this machine does not have.

    Args:
        device (str | torch.device, optional): E.g. ``'cpu'``, ``'cuda'``,
            ``'cuda:1'``. None (let the code choose) always passes.
        option (str): How the user gave it, for the message (``'device'``
            for the API, ``'--device'`` for the demo).

    Raises:
        UserInputError: The device name is not valid, or there is no such
            device here; the message says what to use instead.
    """
    if device is None:
        return
    given = f'{option} {device}' if option.startswith('-') else \
        f'{option}={str(device)!r}'
    cpu = '--device cpu' if option.startswith('-') else f"{option}='cpu'"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as error:
        raise UserInputError(
            f'{given} is not a device name ({error}); use e.g. cpu, cuda '
            'or cuda:1.') from None
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise UserInputError(
                f'{given}: no CUDA device here ({_no_cuda_reason()}); use '
                f'{cpu}, or leave the device unset (a GPU when there is '
                'one, else the CPU).')
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise UserInputError(
                f'{given}: this machine has {count} CUDA device(s), '
                f'cuda:0 to cuda:{count - 1}.')
    elif dev.type == 'mps':
        mps = getattr(torch.backends, 'mps', None)
        if mps is None or not mps.is_available():
            raise UserInputError(f'{given}: no Apple MPS device here; use '
                                 f'{cpu}.')


def _datasets(node: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """Every dataset dict in a dataloader's dataset, wrapped ones first
    (so an annotation file is named before a wrapper's class names)."""
    if not isinstance(node, dict):
        return
    if isinstance(node.get('dataset'), dict):
        yield from _datasets(node['dataset'], f'{key}.dataset')
    if isinstance(node.get('datasets'), (list, tuple)):
        for i, sub in enumerate(node['datasets']):
            yield from _datasets(sub, f'{key}.datasets.{i}')
    yield key, node


def _paths(dataset: dict) -> Iterator[Tuple[str, str, bool]]:
    """``(key, path, is_folder)`` of the files a dataset dict names."""
    root = dataset.get('data_root') or ''
    for key in ('ann_file', 'class_names'):
        path = dataset.get(key)
        if isinstance(path, str) and path:
            # MMEngine's BaseDataset joins ann_file with data_root
            yield key, osp.join(root, path) if key == 'ann_file' else path, \
                False
    prefix = dataset.get('data_prefix')
    if isinstance(prefix, dict):
        for name, path in prefix.items():
            if isinstance(path, str) and path:
                yield f'data_prefix.{name}', osp.join(root, path), True


def check_data_files(cfg: Config, loaders: Sequence[str]) -> None:
    """The files and folders the given dataloaders' datasets name exist.

    Checks ``ann_file`` (joined with the dataset's ``data_root``, as
    MMEngine does), ``class_names`` (a file name) and the folders of
    ``data_prefix``, through dataset wrappers (``dataset``, ``datasets``).
    Only names and folders: reading them is the dataset's job.

    Args:
        cfg (Config): The config.
        loaders (Sequence[str]): Dataloader keys, e.g.
            ``['train_dataloader', 'val_dataloader']``; missing or None
            ones are skipped.

    Raises:
        FileNotFoundError: Naming the config key, the path, the folder it
            is relative to and what to do.
    """
    for name in loaders:
        loader = cfg.get(name)
        if not isinstance(loader, dict):
            continue
        for key, dataset in _datasets(loader.get('dataset'),
                                      f'{name}.dataset'):
            for field, path, folder in _paths(dataset):
                exists = osp.isdir(path) if folder else osp.isfile(path)
                if exists:
                    continue
                where = '' if osp.isabs(path) else \
                    f' (relative to {os.getcwd()}, the folder this runs in)'
                kind = 'folder' if folder else 'file'
                raise FileNotFoundError(
                    f'{key}.{field}: the {kind} {path} does not exist'
                    f'{where}. Write the data first (the demo configs: '
                    'python tools/data/make_synthetic.py --out '
                    'data/synthetic; your own clips: '
                    'tools/data/build_fewshot_ann.py), run from the folder '
                    "the config's paths are relative to, or set it with "
                    f'--cfg-options {key}.{field}=PATH.')


def check_head_classes(cfg: Config) -> None:
    """A head's classifier covers every training class.

    HyRSM's and MoLo's auxiliary classifiers (``cls_head.num_classes``; the
    recipes copy the official ``TRAIN.NUM_CLASS``) take the episode's
    global class ids of the training split as targets: fewer outputs than
    classes would index past the classifier (a device-side assert on a
    GPU, hours in). Read from the training dataset's ``class_names`` file
    (one class per line), when the config names one.

    Args:
        cfg (Config): The config (after ``--cfg-options``).

    Raises:
        UserInputError: Naming the head's value, the file, its class count
            and the option to set.
    """
    head = (cfg.get('model') or {}).get('cls_head') or {}
    num_classes = head.get('num_classes') if isinstance(head, dict) else None
    loader = cfg.get('train_dataloader')
    if not isinstance(num_classes, int) or not isinstance(loader, dict):
        return
    for _, dataset in _datasets(loader.get('dataset'), 'train_dataloader'):
        path = dataset.get('class_names')
        if not isinstance(path, str) or not osp.isfile(path):
            continue
        with open(path) as f:
            classes = sum(1 for line in f if line.strip())
        if classes > num_classes:
            raise UserInputError(
                f'model.cls_head.num_classes={num_classes} but the training '
                f'split has {classes} classes ({path}): {head.get("type")}\'s '
                'classifier needs an output per training class (the recipes '
                'set the official datasets\' TRAIN.NUM_CLASS). Set '
                f'--cfg-options model.cls_head.num_classes={classes}.')
