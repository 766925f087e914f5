# Copyright (c) m2df_mmaction contributors.
"""Split lists → labelled videos: both formats, class names, errors."""
import json
import os.path as osp

import pytest

from m2df_mmaction.datasets.fewshot_splits import (FEWSHOT_DATASETS, SPLITS,
                                                   SplitFormatError,
                                                   class_name_key,
                                                   folder_to_class_name,
                                                   load_fewshot_split,
                                                   load_ssv2_json,
                                                   parse_clipfsar_line,
                                                   parse_trx_line,
                                                   read_class_list,
                                                   read_clipfsar_list,
                                                   read_trx_list)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLITS_ROOT = osp.join(ROOT, 'data', 'splits')

# data/splits/README.md: (classes, videos) per split
COUNTS = {
    'ssv2_full': ((64, 67013), (12, 1926), (24, 2857)),
    'ssv2_small': ((64, 6400), (12, 1200), (24, 2400)),
    'kinetics100': ((64, 6400), (12, 1200), (24, 2400)),
    'ucf101': ((70, 9154), (10, 1421), (21, 2745)),
    'hmdb51': ((31, 4280), (10, 1194), (10, 1292)),
}


def test_parse_lines():
    e = parse_clipfsar_line('train8/78687', 'train')
    assert (e.index, e.video, e.folder) == (8, '78687', '')
    assert e.video_id == '78687'
    e = parse_clipfsar_line('test0//videos/Punch/v_Punch_g01_c01.avi', 'test')
    assert (e.index, e.folder, e.video_id) == (0, 'Punch', 'v_Punch_g01_c01')
    e = parse_trx_line('air drumming/-VtLx-mcPds_000012_000022')
    assert (e.folder, e.video, e.index) == ('air drumming',
                                            '-VtLx-mcPds_000012_000022', None)


@pytest.mark.parametrize('line', [
    'train8', 'trainX/1', 'train8//', 'train8/a/b', 'val3/123', '8/123',
    'train8//file_without_folder.avi'
])
def test_bad_clipfsar_line_names_file_and_line(tmp_path, line):
    path = tmp_path / 'train_few_shot.txt'
    path.write_text(f'train0/1\n\ntrain0/2\n{line}\n')
    with pytest.raises(SplitFormatError, match=r'train_few_shot\.txt, line 4'):
        read_clipfsar_list(str(path), 'train')


def test_bad_trx_lines(tmp_path):
    path = tmp_path / 'trainlist03.txt'
    path.write_text('a/1\nno_slash\n')
    with pytest.raises(SplitFormatError, match=r'trainlist03\.txt, line 2'):
        read_trx_list(str(path))
    path.write_text('a/1\nb/2\na/1\n')
    with pytest.raises(SplitFormatError, match='line 3.*repeats line 1'):
        read_trx_list(str(path))


def test_class_list_errors(tmp_path):
    path = tmp_path / 'classes_train.txt'
    path.write_text('0\tcatch\n1\tclimb stairs\n')
    assert read_class_list(str(path)) == ['catch', 'climb stairs']
    for text, lineno in (('0\tcatch\n2\tkick\n', 2), ('0 catch\n', 1),
                         ('0\tcatch\n1\tcatch\n', 2), ('0\t\n', 1)):
        path.write_text(text)
        with pytest.raises(SplitFormatError, match=f'line {lineno}'):
            read_class_list(str(path))


def test_names():
    assert folder_to_class_name('ApplyLipstick', 'ucf101') == \
        'Apply Lipstick'
    assert folder_to_class_name('shoot_ball', 'hmdb51') == 'shoot ball'
    assert class_name_key('Blow DryHair') == class_name_key('BlowDryHair')
    assert class_name_key('Poking [something soft]') == class_name_key(
        'Poking something soft')


@pytest.mark.parametrize('dataset', sorted(FEWSHOT_DATASETS))
def test_real_lists_match_readme_counts(dataset):
    for fmt in FEWSHOT_DATASETS[dataset]:
        for split, (classes, videos) in zip(SPLITS, COUNTS[dataset]):
            if dataset == 'ssv2_full' and split == 'val':
                # names need the official SSv2 json files
                with pytest.raises(SplitFormatError, match='--labels'):
                    load_fewshot_split(SPLITS_ROOT, dataset, fmt, split)
                continue
            fs = load_fewshot_split(SPLITS_ROOT, dataset, fmt, split)
            assert len(fs.class_names) == classes
            assert len(fs.entries) == len(fs.labels) == videos
            assert sorted(set(fs.labels)) == list(range(classes))
            if split != 'val':  # the CLIP-FSAR list order, both formats
                names = read_class_list(
                    osp.join(SPLITS_ROOT, dataset, 'clipfsar_format',
                             f'classes_{split}.txt'))
                assert fs.class_names == names


@pytest.mark.parametrize('dataset', ['ssv2_small', 'ucf101', 'hmdb51'])
def test_both_formats_give_a_video_the_same_class(dataset):
    for split in SPLITS:
        by_format = []
        for fmt in ('clipfsar', 'trx'):
            fs = load_fewshot_split(SPLITS_ROOT, dataset, fmt, split)
            by_format.append({
                e.video_id: class_name_key(fs.class_names[label])
                for e, label in zip(fs.entries, fs.labels)
            })
        assert by_format[0] == by_format[1]


def test_val_names_derived_from_folders():
    fs = load_fewshot_split(SPLITS_ROOT, 'ucf101', 'clipfsar', 'val')
    assert fs.class_names[0] == 'Apply Lipstick' and fs.notes
    fs = load_fewshot_split(SPLITS_ROOT, 'ssv2_small', 'clipfsar', 'val')
    assert 'WITHOUT the brackets' in fs.notes[0]
    assert '[' not in ''.join(fs.class_names)


def _fake_ssv2_json(tmp_path, split_lists):
    """Official-style train.json + labels.json for the listed videos."""
    records, labels = [], {}
    for split, fs in split_lists.items():
        for e, label in zip(fs.entries, fs.labels):
            name = fs.class_names[label]
            if split == 'val':
                name = f'Val template {label} of [something]'
            records.append(dict(id=e.video_id, label='x', template=name,
                                placeholders=['x']))
            labels[name.replace('[', '').replace(']', '')] = str(len(labels))
    (tmp_path / 'train.json').write_text(json.dumps(records))
    (tmp_path / 'labels.json').write_text(json.dumps(labels))
    return [str(tmp_path / 'labels.json'), str(tmp_path / 'train.json')]


def test_ssv2_full_val_names_from_official_json(tmp_path):
    lists = {
        s: load_fewshot_split(SPLITS_ROOT, 'ssv2_small', 'clipfsar', s)
        for s in SPLITS
    }
    files = _fake_ssv2_json(tmp_path, lists)
    label_names, templates = load_ssv2_json(files)
    assert len(templates) == 10000 and label_names
    fs = load_fewshot_split(SPLITS_ROOT, 'ssv2_small', 'clipfsar', 'val',
                            ssv2_templates=templates)
    assert fs.class_names[3] == 'Val template 3 of [something]'
    fs = load_fewshot_split(SPLITS_ROOT, 'ssv2_small', 'trx', 'val',
                            ssv2_templates=templates)
    assert all(n.startswith('Val template') for n in fs.class_names)
    fs = load_fewshot_split(SPLITS_ROOT, 'ssv2_small', 'clipfsar', 'test',
                            ssv2_templates=templates)
    assert 'all match' in fs.notes[-1]
    # a wrong template is reported
    first = fs.entries[0].video_id
    templates[first] = 'Something else entirely'
    fs = load_fewshot_split(SPLITS_ROOT, 'ssv2_small', 'clipfsar', 'test',
                            ssv2_templates=templates)
    assert fs.notes[-1].startswith('WARNING: 1 of 2400')
