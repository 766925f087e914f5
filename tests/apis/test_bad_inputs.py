# Copyright (c) m2df_mmaction contributors.
"""Every bad input fails at once, with a message naming what is wrong."""
import os
import re
import shutil

import numpy as np
import pytest
from mmengine.config import Config

from m2df_mmaction.apis import (ClipError, FewShotInferencer, SupportSet,
                                init_fewshot_recognizer, list_clips)
from m2df_mmaction.synthetic import write_video


@pytest.fixture(scope='module')
def inferencer(checkpoints):
    cfg, ckpt = checkpoints('otam')
    return FewShotInferencer(cfg, ckpt, device='cpu', show_progress=False)


def forbid_encoding(inferencer, monkeypatch):
    """Fail the test if any clip reaches the encoder from now on."""

    def encode_frames(frames):
        raise AssertionError('a clip was encoded before the error')

    monkeypatch.setattr(inferencer.model, 'encode_frames', encode_frames)


def bad_clip(folder, kind):
    """A clip that cannot be used, of the given kind."""
    path = os.path.join(folder, f'{kind}.mp4')
    if kind == 'empty':
        open(path, 'wb').close()
    elif kind == 'undecodable':
        with open(path, 'wb') as f:
            f.write(bytes(range(256)) * 8)
    elif kind == 'short':  # 5 frames; the pipeline samples 8
        write_video(path, np.full((5, 32, 32, 3), 128, dtype=np.uint8))
    elif kind == 'text':  # named as a video, but text
        with open(path, 'w') as f:
            f.write('filmed on monday\n')
    return path  # 'missing': never written


REASONS = dict(
    missing='does not exist',
    empty=r'is empty \(0 bytes\)',
    undecodable='cannot be opened as a video',
    short='is too short: 5 frames, but the test pipeline samples 8',
    text=r'is a text file \(first line: "filmed on monday"\), not a video')


@pytest.mark.parametrize('kind', list(REASONS))
def test_bad_support_clip_is_named_with_its_class(kind, inferencer,
                                                  novel_clips, tmp_path,
                                                  monkeypatch):
    forbid_encoding(inferencer, monkeypatch)
    names = list(novel_clips)
    support = {names[0]: novel_clips[names[0]][:2],
               names[1]: [novel_clips[names[1]][0],
                          bad_clip(str(tmp_path), kind)]}
    with pytest.raises(ClipError) as error:
        inferencer.fit(support)
    message = str(error.value)
    assert '1 of 4 support clips cannot be used' in message
    assert f'{kind}.mp4 (support clip of class {names[1]!r})' in message
    assert re.search(REASONS[kind], message)


@pytest.mark.parametrize('kind', list(REASONS))
def test_bad_query_is_named_before_any_query_is_encoded(
        kind, inferencer, novel_clips, queries, tmp_path, monkeypatch):
    inferencer.fit({n: c[:1] for n, c in list(novel_clips.items())[:2]})
    forbid_encoding(inferencer, monkeypatch)
    bad = bad_clip(str(tmp_path), kind)
    with pytest.raises(ClipError, match=REASONS[kind]) as error:
        inferencer.predict([queries[0], bad, queries[1]])
    assert f'1 of 3 query clips cannot be used:\n  {bad} (query 1)' in str(
        error.value)


def test_class_folder_without_clips(novel_clips, tmp_path):
    for name in list(novel_clips)[:2]:
        os.makedirs(tmp_path / name)
        shutil.copy(novel_clips[name][0], tmp_path / name)
    os.makedirs(tmp_path / 'waving')
    (tmp_path / 'waving' / '.DS_Store').write_bytes(b'hidden')
    with pytest.raises(ValueError, match="1 classes have no clips: 'waving'"):
        SupportSet.from_folder(str(tmp_path))


def test_non_video_files_in_class_folders_are_left_out_and_named(
        novel_clips, tmp_path, monkeypatch):
    notes = []
    monkeypatch.setattr('m2df_mmaction.apis.support_set.print_log',
                        lambda msg, **kwargs: notes.append(msg))
    names = list(novel_clips)[:2]
    for name in names:
        os.makedirs(tmp_path / name)
        for clip in novel_clips[name][:2]:
            shutil.copy(clip, tmp_path / name)
    (tmp_path / names[0] / 'notes.txt').write_text('filmed on monday\n')
    (tmp_path / names[0] / '.DS_Store').write_bytes(b'\x00hidden')
    (tmp_path / names[1] / 'README').write_text('two clips per class\n')
    support = SupportSet.from_folder(str(tmp_path))
    assert support.num_shots == 2  # not 'every class needs the same ...'
    assert all(
        path.endswith('.mp4') for path, _ in support.clip_list())
    assert len(notes) == 1
    assert f"Support folder {str(tmp_path)!r}: left out 2 files that are " \
        'not video clips:' in notes[0]
    assert f'{tmp_path / names[0] / "notes.txt"}: a text file\n' in notes[0]
    assert f'{tmp_path / names[1] / "README"}: a text file (first line: ' \
        '"two clips per class")' in notes[0]
    assert '.DS_Store' not in notes[0]
    # a file of unknown kind is taken as a clip, and checked at fit
    (tmp_path / names[1] / 'clip.bin').write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match="'.*': 2, '.*': 3"):
        SupportSet.from_folder(str(tmp_path))
    # query folders: the same rule, the same note
    notes.clear()
    clips = list_clips(str(tmp_path / names[0]))
    assert [os.path.basename(c) for c in clips] == sorted(
        os.path.basename(c) for c in novel_clips[names[0]][:2])
    assert 'notes.txt: a text file' in notes[0]


def test_fewer_than_two_classes(novel_clips, tmp_path):
    name = list(novel_clips)[0]
    os.makedirs(tmp_path / name)
    shutil.copy(novel_clips[name][0], tmp_path / name)
    with pytest.raises(ValueError, match='at least 2 classes, found 1'):
        SupportSet.from_folder(str(tmp_path))
    with pytest.raises(ValueError, match='found 0'):
        SupportSet({})


def test_unequal_shots_are_refused_naming_the_counts():
    with pytest.raises(ValueError) as error:
        SupportSet({'a': ['1.mp4', '2.mp4'], 'b': ['3.mp4']})
    assert "'a': 2, 'b': 1" in str(error.value)
    assert 'Use 1 clips of each class' in str(error.value)


def test_wrong_folder_layouts(novel_clips, tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        SupportSet.from_folder(str(tmp_path / 'nowhere'))
    clip = novel_clips[list(novel_clips)[0]][0]
    shutil.copy(clip, tmp_path / 'loose.mp4')
    with pytest.raises(ValueError, match='lie directly in it'):
        SupportSet.from_folder(str(tmp_path))
    os.remove(tmp_path / 'loose.mp4')
    os.makedirs(tmp_path / 'a' / 'nested')
    os.makedirs(tmp_path / 'b')
    with pytest.raises(ValueError, match='not folders'):
        SupportSet.from_folder(str(tmp_path))


def test_support_list_errors(tmp_path):
    names = tmp_path / 'classes.txt'
    names.write_text('waving\nclapping\n')
    ann = tmp_path / 'support.txt'
    ann.write_text('a.mp4 0\nb.mp4 2\n')
    with pytest.raises(ValueError, match='line 2: label 2'):
        SupportSet.from_annotation(str(ann), str(names))
    ann.write_text('a.mp4 0\nb.mp4\n')
    with pytest.raises(ValueError, match='line 2: 1 fields'):
        SupportSet.from_annotation(str(ann), str(names))
    ann.write_text('a.mp4 0\n/abs/b.mp4 1\n')
    support = SupportSet.from_annotation(str(ann), str(names))
    assert support.clips == {'waving': [str(tmp_path / 'a.mp4')],
                             'clapping': ['/abs/b.mp4']}


def test_config_whose_model_is_not_few_shot(tmp_path):
    cfg = Config(
        dict(
            model=dict(
                type='Recognizer2D',
                backbone=dict(type='ResNet', depth=50),
                cls_head=dict(type='TSNHead', num_classes=5,
                              in_channels=2048))))
    with pytest.raises(TypeError, match="model.type is 'Recognizer2D', not "
                       'a FewShotRecognizer'):
        FewShotInferencer(cfg, device='cpu')


def test_checkpoint_of_another_model(checkpoints):
    cfg, _ = checkpoints('m2df')
    _, otam_ckpt = checkpoints('otam')
    with pytest.raises(KeyError, match='does not fit the model'):
        init_fewshot_recognizer(cfg, otam_ckpt, device='cpu')
    with pytest.raises(FileNotFoundError, match='not found'):
        init_fewshot_recognizer(cfg, 'missing.pth', device='cpu')


def test_queries_before_fit(checkpoints):
    cfg, ckpt = checkpoints('protonet')
    fresh = FewShotInferencer(cfg, ckpt, device='cpu')
    with pytest.raises(RuntimeError, match='call fit'):
        fresh.predict(['any.mp4'])
