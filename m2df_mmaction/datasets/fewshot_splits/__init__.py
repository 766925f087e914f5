# Copyright (c) m2df_mmaction contributors.
"""Few-shot split lists (CLIP-FSAR and TRX formats) → labelled video lists.

Pure functions, no video access; one module per list format (see
``data/splits/README.md``):

- :mod:`.clipfsar`: ``<split><idx>/<ssv2 id>`` (SSv2) or
  ``<split><idx>//<relative path>`` (Kinetics-100, UCF101, HMDB51), with
  ``classes_{train,test}.txt`` (``idx<TAB>name``) naming the classes;
- :mod:`.trx`: ``<class name or folder>/<video id>``;
- :mod:`.ssv2`: SSv2 class names from the official annotation files.

Labels follow the text-table order of the official code
(``docs/method.md`` §1.4, "class indexing pitfall"): for train and test,
label ``i`` is the class on line ``i`` of the CLIP-FSAR
``classes_<split>.txt`` in *both* formats (TRX class names are matched to
it), so labels and class names always agree. Validation classes, which the
CLIP-FSAR class lists lack, are labelled by their CLIP-FSAR index
(CLIP-FSAR format) or by their rank among the sorted TRX class names (TRX
format, as the TRX loader does), and named from the class folder, from the
TRX list, or, for SSv2, from the official SSv2 annotation files
(``something-something-v2-{train,validation}.json`` give each video's
bracketed template).
"""
import os.path as osp
from typing import Dict, Optional

from . import ssv2
from .clipfsar import label_clipfsar, parse_clipfsar_line, read_clipfsar_list
from .common import (FEWSHOT_DATASETS, SPLITS, FewShotSplit, SplitEntry,
                     SplitFormatError, class_name_key, find_split_files,
                     folder_to_class_name, read_class_list)
from .ssv2 import load_ssv2_json
from .trx import label_trx, parse_trx_line, read_trx_list

__all__ = [
    'SPLITS', 'FEWSHOT_DATASETS', 'SplitFormatError', 'SplitEntry',
    'FewShotSplit', 'parse_clipfsar_line', 'parse_trx_line',
    'read_clipfsar_list', 'read_trx_list', 'read_class_list',
    'class_name_key', 'folder_to_class_name', 'load_ssv2_json',
    'find_split_files', 'load_fewshot_split'
]


def load_fewshot_split(splits_root: str,
                       dataset: str,
                       fmt: str,
                       split: str,
                       ssv2_templates: Optional[Dict[str, str]] = None
                       ) -> FewShotSplit:
    """Labelled videos and class names of one split of a benchmark.

    Args:
        splits_root (str): Folder holding ``<dataset>/<fmt>_format/``.
        dataset (str): One of :data:`FEWSHOT_DATASETS`.
        fmt (str): ``'clipfsar'`` or ``'trx'``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        ssv2_templates (dict, optional): SSv2 ``video id -> template`` (see
            :func:`load_ssv2_json`); names SSv2 validation classes with
            their bracketed templates and checks the train/test names.

    Returns:
        FewShotSplit: Labels follow the CLIP-FSAR class index (train and
        test, both formats) or the validation order described in the
        module docstring.
    """
    if dataset not in FEWSHOT_DATASETS:
        raise ValueError(f'unknown dataset {dataset!r}; choose from '
                         f'{sorted(FEWSHOT_DATASETS)}.')
    if fmt not in FEWSHOT_DATASETS[dataset]:
        raise ValueError(f'{dataset} has no {fmt!r} split lists; formats: '
                         f'{FEWSHOT_DATASETS[dataset]}.')
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}; choose from {SPLITS}.')
    path = find_split_files(splits_root, dataset, fmt)[split]
    classes_file = osp.join(splits_root, dataset, 'clipfsar_format',
                            f'classes_{split}.txt')
    known = read_class_list(classes_file) if osp.isfile(
        classes_file) else None
    if fmt == 'clipfsar':
        entries, labels, names, notes = label_clipfsar(
            path, split, dataset, known, classes_file, splits_root,
            ssv2_templates)
    else:
        entries, labels, names, notes = label_trx(
            path, split, dataset, known, classes_file, ssv2_templates)
    if dataset.startswith('ssv2') and ssv2_templates and known is not None:
        ssv2.check_names(entries, labels, names, ssv2_templates, path,
                         notes)
    return FewShotSplit(split=split, class_names=list(names),
                        entries=entries, labels=labels, notes=notes)
