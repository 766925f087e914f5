# Copyright (c) m2df_mmaction contributors.
"""The bad-input catalogue (docs/troubleshooting.md): each case fails early
with an error that names the culprit."""
import os.path as osp
import shutil

import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config

from m2df_mmaction.engine import FiniteLossHook
from m2df_mmaction.testing import test_video_pipeline
from m2df_mmaction.utils import (check_cfg_options, check_checkpoint_matches,
                                 registry_hints)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIPELINE = test_video_pipeline()


def episodic(root, ann_file=None, **kwargs):
    cfg = dict(
        type='EpisodicDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file=ann_file or osp.join(root, 'train.txt'),
            data_prefix=dict(video=root),
            pipeline=PIPELINE),
        num_ways=3,
        num_shots=1,
        num_queries=1,
        num_episodes=50,
        class_names=osp.join(root, 'train_classes.txt'))
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def lines(root, split='train'):
    return open(osp.join(root, f'{split}.txt')).read().splitlines()


def write(path, rows):
    path.write_text('\n'.join(rows) + '\n')
    return str(path)


def test_malformed_annotation_line_names_the_line(tiny_benchmark, tmp_path):
    rows = lines(tiny_benchmark)
    rows[4] = rows[4].split()[0]  # label missing
    ann = write(tmp_path / 'train.txt', rows)
    with pytest.raises(ValueError, match=r'train.txt, line 5: 1 fields'):
        episodic(tiny_benchmark, ann)
    rows = lines(tiny_benchmark)
    rows[2] = rows[2].rsplit(' ', 1)[0] + ' two'
    ann = write(tmp_path / 'train.txt', rows)
    with pytest.raises(ValueError, match=r"line 3: 'two' is not"):
        episodic(tiny_benchmark, ann)


def test_empty_dataset(tiny_benchmark, tmp_path):
    ann = write(tmp_path / 'train.txt', [])
    with pytest.raises(ValueError, match='annotation file is empty'):
        episodic(tiny_benchmark, ann)


def test_class_names_that_do_not_match_the_labels(tiny_benchmark, tmp_path):
    names = open(osp.join(tiny_benchmark, 'train_classes.txt')).read()
    extra = tmp_path / 'names.txt'
    extra.write_text(names.strip() + '\nan extra class\n')
    with pytest.raises(ValueError, match='has no video of 1 of them'):
        episodic(tiny_benchmark, class_names=str(extra))


def corrupt_copy(root, tmp_path, kind):
    """The tiny train split with video 0 broken in one way."""
    rows = lines(root)
    path, label = rows[0].split()
    broken = tmp_path / f'{kind}.mp4'
    data = open(osp.join(root, path), 'rb').read()
    if kind == 'zero_byte':
        broken.write_bytes(b'')
    elif kind == 'truncated':
        broken.write_bytes(data[:len(data) // 3])
    else:  # undecodable
        broken.write_bytes(bytes(range(256)) * 8)
    shutil.copytree(root, tmp_path / 'root')
    rows[0] = f'{broken} {label}'
    rows[1:] = [osp.join(tmp_path, 'root', r) for r in rows[1:]]
    ann = write(tmp_path / 'train.txt', rows)
    return str(tmp_path / 'root'), ann


def first_episode_with(dataset, video):
    return next(i for i in range(len(dataset))
                if video in dataset.episode_video_indices(
                    dataset.sample_episode(i)).tolist())


@pytest.mark.parametrize('kind', ['zero_byte', 'truncated', 'undecodable'])
def test_corrupt_video_raises_naming_the_file(tiny_benchmark, tmp_path,
                                              kind):
    root, ann = corrupt_copy(tiny_benchmark, tmp_path, kind)
    dataset = episodic(root, ann, class_names=None)
    dataset.dataset.data_prefix['video'] = ''
    episode = first_episode_with(dataset, 0)
    with pytest.raises(RuntimeError, match=f'{kind}.mp4'):
        dataset[episode]


def test_corrupt_training_video_can_be_replaced_and_is_recorded(
        tiny_benchmark, tmp_path):
    root, ann = corrupt_copy(tiny_benchmark, tmp_path, 'undecodable')
    dataset = episodic(root, ann, on_corrupt='replace', class_names=None)
    dataset.dataset.data_prefix['video'] = ''
    episode = first_episode_with(dataset, 0)
    item = dataset[episode]
    replaced = item['data_samples'].metainfo['replaced_videos']
    assert len(replaced) == 1 and replaced[0][0].endswith('undecodable.mp4')
    assert replaced[0][1] != replaced[0][0]
    assert item['inputs'].shape[0] == 6
    # the same replacement every time (a function of the episode)
    again = dataset[episode]['data_samples'].metainfo['replaced_videos']
    assert again == replaced
    # test episodes never replace
    test_set = episodic(
        root, ann, on_corrupt='replace', class_names=None, test_mode=True)
    test_set.dataset.data_prefix['video'] = ''
    with pytest.raises(RuntimeError, match='undecodable.mp4'):
        test_set[first_episode_with(test_set, 0)]


def test_checkpoint_of_another_model(tmp_path):
    otam = MODELS.build(
        dict(
            type='FewShotRecognizer',
            backbone=dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'),
            cls_head=dict(type='OTAMHead')))
    m2df = MODELS.build(
        dict(
            type='FewShotRecognizer',
            backbone=dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'),
            text_encoder=dict(type='OpenCLIPText', arch='TinyCLIP-ViT-32'),
            cls_head=dict(type='M2DFHead')))
    path = str(tmp_path / 'otam.pth')
    torch.save(dict(state_dict=otam.state_dict(), meta={}), path)
    check_checkpoint_matches(otam, path)  # its own model: fine
    with pytest.raises(KeyError) as error:
        check_checkpoint_matches(m2df, path)
    message = str(error.value)
    assert 'otam.pth does not fit' in message
    assert 'missing keys: cls_head.contexts' in message
    path = str(tmp_path / 'm2df.pth')
    torch.save(dict(state_dict=m2df.state_dict(), meta={}), path)
    with pytest.raises(KeyError, match='unexpected keys: cls_head.contexts'):
        check_checkpoint_matches(otam, path)


def test_unknown_type_names_the_closest():
    with pytest.raises(KeyError, match='closest known names: M2DFHead'):
        with registry_hints():
            MODELS.build(dict(type='M2DFHaed', embed_dims=8))


def test_unknown_cfg_options_key():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'm2df_demo_5w1s.py'))
    check_cfg_options(cfg, {'model.cls_head.views': ['local']})
    with pytest.raises(KeyError, match="no 'model.cls_haed'; did you mean"):
        check_cfg_options(cfg, {'model.cls_haed.views': ['local']})
    with pytest.raises(KeyError, match="no 'max_itres'"):
        check_cfg_options(cfg, {'max_itres': 3})


class _Runner:
    iter = 41


def test_nan_loss_names_the_term_and_episodes():
    from mmaction.structures import ActionDataSample
    sample = ActionDataSample()
    sample.set_metainfo(dict(episode_idx=1234))
    hook = FiniteLossHook()
    hook.after_train_iter(
        _Runner(), 0, dict(data_samples=[sample]),
        dict(loss=torch.tensor(1.0), loss_cls=torch.tensor(1.0)))
    with pytest.raises(FloatingPointError) as error:
        hook.after_train_iter(
            _Runner(), 0, dict(data_samples=[sample]),
            dict(
                loss=torch.tensor(float('nan')),
                loss_distill=torch.tensor(float('inf'),
                                          requires_grad=True)))
    message = str(error.value)
    assert 'iteration 42' in message and 'loss_distill = inf' in message
    assert '1234' in message


def test_head_classifier_smaller_than_the_training_classes(tmp_path):
    """HyRSM/MoLo recipes copy the official NUM_CLASS; a dataset with more
    training classes is refused before the Runner starts, naming both."""
    from m2df_mmaction.utils import UserInputError, check_head_classes
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'hyrsm_ucf101_5w1s_r50-in1k.py'))
    names = tmp_path / 'train_classes.txt'
    names.write_text(''.join(f'class {i}\n' for i in range(71)))
    cfg.train_dataloader.dataset.class_names = str(names)
    with pytest.raises(UserInputError) as error:
        check_head_classes(cfg)
    message = str(error.value)
    assert 'model.cls_head.num_classes=70' in message
    assert f'has 71 classes ({names})' in message
    assert 'model.cls_head.num_classes=71' in message
    names.write_text(''.join(f'class {i}\n' for i in range(70)))
    check_head_classes(cfg)  # the official 70: fine
    cfg.model.cls_head.num_classes = 80  # more outputs than classes: fine
    check_head_classes(cfg)
