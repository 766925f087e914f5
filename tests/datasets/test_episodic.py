# Copyright (c) m2df_mmaction contributors.
import os.path as osp

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS
from mmengine.dataset import pseudo_collate

import m2df_mmaction  # noqa: F401
from m2df_mmaction.testing import test_video_pipeline

PIPELINE = test_video_pipeline()


def episodic_cfg(root, split='train', **kwargs):
    cfg = dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=osp.join(root, f'{split}.txt'),
            data_prefix=dict(video=root),
            pipeline=PIPELINE),
        num_ways=3,
        num_shots=1,
        num_queries=2,
        num_episodes=20,
        episodes_seed=7,
        class_names=osp.join(root, f'{split}_classes.txt'))
    cfg.update(kwargs)
    return cfg


def test_episode_layout(tiny_benchmark):
    dataset = DATASETS.build(episodic_cfg(tiny_benchmark, num_shots=2))
    assert len(dataset) == 20
    item = dataset[3]
    # V = N * (K + Q) = 3 * 4 videos of 4 frames, 32 px
    assert item['inputs'].shape == (12, 4, 3, 32, 32)
    sample = item['data_samples']
    assert sample.gt_label.tolist() == [0, 0, 1, 1, 2, 2]
    # supports are way-major by position: no per-sample label field
    assert 'support_labels' not in sample
    meta = sample.metainfo
    assert meta['episode_idx'] == 3
    assert len(set(meta['class_ids'])) == 3
    names = open(osp.join(tiny_benchmark, 'train_classes.txt')).read().split(
        '\n')
    assert meta['class_names'] == [names[c] for c in meta['class_ids']]
    # every video of the episode is of its class, none repeats
    videos = meta['video_indices']
    assert len(set(videos)) == 12
    labels = [dataset.dataset.get_data_info(v)['label'] for v in videos]
    supports, queries = labels[:6], labels[6:]
    assert supports == [c for c in meta['class_ids'] for _ in range(2)]
    assert queries == [c for c in meta['class_ids'] for _ in range(2)]


def test_episodes_are_a_function_of_seed_and_index(tiny_benchmark):
    first = DATASETS.build(episodic_cfg(tiny_benchmark))
    second = DATASETS.build(episodic_cfg(tiny_benchmark))
    other = DATASETS.build(episodic_cfg(tiny_benchmark, episodes_seed=8))
    for index in (0, 5, 19):
        a, b = first.sample_episode(index), second.sample_episode(index)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    # reading in another order gives the same episode
    assert first.sample_episode(5)['query'].tolist() == \
        second.sample_episode(5)['query'].tolist()
    differs = [
        first.sample_episode(i)['query'].tolist() !=
        other.sample_episode(i)['query'].tolist() for i in range(20)
    ]
    assert any(differs)
    # the decoded test-mode frames are identical too
    assert torch.equal(first[2]['inputs'], second[2]['inputs'])


def test_video_pool_and_expected_unused_videos(tiny_benchmark):
    """The pool is every video of the episode classes; the expected count
    of pool videos no episode draws matches the draws' own average."""
    dataset = DATASETS.build(episodic_cfg(tiny_benchmark, num_episodes=400))
    pool = dataset.video_pool()
    labels = [dataset.dataset.get_data_info(i)['label']
              for i in range(len(dataset.dataset))]
    assert pool.tolist() == sorted(
        i for i, label in enumerate(labels) if label in dataset.classes)
    drawn = [dataset.episode_video_indices(dataset.sample_episode(i))
             for i in range(400)]
    for num in (1, 3, 8):
        # 400 / num independent runs of num episodes each
        unused = [len(pool) - len(np.unique(np.concatenate(
            drawn[start:start + num]))) for start in range(0, 400, num)]
        mean, err = np.mean(unused), np.std(unused) / np.sqrt(len(unused))
        expected = dataset.expected_unused_videos(num)
        assert abs(mean - expected) < 4 * err + 1e-9, (num, mean, expected)
    assert dataset.expected_unused_videos(10**6) == 0.0
    assert dataset.expected_unused_videos(0) == len(pool)


def test_data_sample_metainfo_is_not_shared(tiny_benchmark):
    """Samples built without deep copies still own their metainfo lists;
    only the dataset's class-name list is shared."""
    dataset = DATASETS.build(episodic_cfg(tiny_benchmark))
    first, second = dataset.build_data_sample(0), dataset.build_data_sample(0)
    for key in ('class_ids', 'class_names', 'video_indices'):
        assert first.metainfo[key] == second.metainfo[key]
        assert first.metainfo[key] is not second.metainfo[key]
    first.class_ids.append(-1)
    assert dataset.build_data_sample(0).class_ids == second.class_ids
    assert first.all_class_names is dataset.class_names


def test_pseudo_collate_keeps_episodes(tiny_benchmark):
    dataset = DATASETS.build(episodic_cfg(tiny_benchmark))
    batch = pseudo_collate([dataset[0], dataset[1]])
    assert len(batch['inputs']) == 2
    assert batch['inputs'][0].shape == (9, 4, 3, 32, 32)
    assert len(batch['data_samples']) == 2
    assert batch['data_samples'][1].metainfo['episode_idx'] == 1


@pytest.mark.parametrize(
    'kwargs, message', [
        (dict(num_ways=7), 'num_ways=7 but'),
        (dict(num_shots=3, num_queries=4), 'fewer than num_shots'),
        (dict(num_shots=0), 'num_shots must be a positive integer'),
    ])
def test_impossible_settings(tiny_benchmark, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DATASETS.build(episodic_cfg(tiny_benchmark, **kwargs))


def test_too_few_videos_names_the_class(tiny_benchmark, tmp_path):
    lines = open(osp.join(tiny_benchmark, 'train.txt')).read().splitlines()
    kept = [line for line in lines if not line.endswith(' 4')]
    kept += [line for line in lines if line.endswith(' 4')][:2]
    ann = tmp_path / 'train.txt'
    ann.write_text('\n'.join(kept) + '\n')
    cfg = episodic_cfg(tiny_benchmark, num_shots=1, num_queries=2)
    cfg['dataset']['ann_file'] = str(ann)
    names = open(osp.join(tiny_benchmark, 'train_classes.txt')).read()
    with pytest.raises(ValueError) as error:
        DATASETS.build(cfg)
    assert 'class 4' in str(error.value)
    assert names.splitlines()[4] in str(error.value)
    assert ': 2' in str(error.value)


def test_missing_annotation_file(tiny_benchmark):
    cfg = episodic_cfg(tiny_benchmark)
    cfg['dataset']['ann_file'] = osp.join(tiny_benchmark, 'nope.txt')
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        DATASETS.build(cfg)


def test_missing_video_is_named(tiny_benchmark, tmp_path):
    lines = open(osp.join(tiny_benchmark, 'train.txt')).read().splitlines()
    lines[3] = 'videos/train/gone/missing_video.mp4 ' + lines[3].split()[-1]
    ann = tmp_path / 'train.txt'
    ann.write_text('\n'.join(lines) + '\n')
    cfg = episodic_cfg(tiny_benchmark)
    cfg['dataset']['ann_file'] = str(ann)
    with pytest.raises(FileNotFoundError, match='missing_video.mp4'):
        DATASETS.build(cfg)


def test_class_names_must_cover_labels(tiny_benchmark, tmp_path):
    names = tmp_path / 'names.txt'
    names.write_text('a\nb\n')
    with pytest.raises(ValueError, match='names only 2 classes'):
        DATASETS.build(episodic_cfg(tiny_benchmark, class_names=str(names)))


def test_unreadable_video_is_named(tiny_benchmark, tmp_path):
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video at all')
    lines = open(osp.join(tiny_benchmark, 'train.txt')).read().splitlines()
    label = lines[0].split()[-1]
    lines = [f'{bad} {label}'] + lines[1:]
    ann = tmp_path / 'train.txt'
    ann.write_text('\n'.join(lines) + '\n')
    cfg = episodic_cfg(tiny_benchmark, num_episodes=200)
    cfg['dataset']['ann_file'] = str(ann)
    cfg['dataset']['data_prefix'] = dict(video='')
    lines = [
        osp.join(tiny_benchmark, line) if i else line
        for i, line in enumerate(lines)
    ]
    ann.write_text('\n'.join(lines) + '\n')
    dataset = DATASETS.build(cfg)
    episode = next(i for i in range(200)
                   if 0 in dataset.sample_episode(i)['support'].tolist() +
                   dataset.sample_episode(i)['query'].tolist())
    with pytest.raises(RuntimeError, match='bad.mp4'):
        dataset[episode]


def test_training_augmentation_is_a_function_of_the_episode(tiny_benchmark):
    cfg = episodic_cfg(tiny_benchmark)
    cfg['dataset']['pipeline'] = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=4),
        dict(type='DecordDecode'),
        dict(type='RandomCrop', size=24),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs')
    ]
    dataset = DATASETS.build(cfg)
    np.random.seed(1)
    first = dataset[4]['inputs']
    np.random.seed(2)  # the global state must not matter ...
    dataset[3]
    again = dataset[4]['inputs']  # ... nor what was loaded before
    assert first.shape == (9, 4, 3, 24, 24)
    assert torch.equal(first, again)
    # and the global state is left as it was
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    dataset[0]
    assert np.random.rand() == expected
    # different episodes get different augmentations of the same video
    other = DATASETS.build(episodic_cfg(tiny_benchmark, episodes_seed=99))
    assert not torch.equal(first, other[4]['inputs'])


def test_query_pipeline_applies_to_training_queries_only(tiny_benchmark):
    """CLIP-FSAR's Kinetics-100 queries get their own augmentation."""
    dark = [*PIPELINE[:3],
            dict(type='VideoColorJitter', brightness=(0.5, 0.5), contrast=0,
                 saturation=0, hue=0, grayscale=0),
            *PIPELINE[3:]]
    plain = DATASETS.build(episodic_cfg(tiny_benchmark))
    train = DATASETS.build(episodic_cfg(tiny_benchmark, query_pipeline=dark))
    ref, item = plain[5]['inputs'], train[5]['inputs']
    assert item.dtype == torch.float32  # uint8 supports joined float queries
    num_support = 3
    assert torch.equal(item[:num_support], ref[:num_support].float())
    torch.testing.assert_close(
        item[num_support:], 0.5 * ref[num_support:].float(), atol=0.01,
        rtol=0)
    # The same episode twice: the same augmented queries.
    assert torch.equal(item, train[5]['inputs'])
    # Test episodes never use it.
    test = DATASETS.build(
        episodic_cfg(tiny_benchmark, query_pipeline=dark, test_mode=True))
    assert torch.equal(test[5]['inputs'], ref)
