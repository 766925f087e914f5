# Copyright (c) m2df_mmaction contributors.
"""Annotation files with blank lines or non-video entries are refused at
dataset build, naming the file and the lines (docs/troubleshooting.md,
"Data and weight files")."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmaction.registry import DATASETS

from m2df_mmaction.datasets.annotation_check import check_annotation_file
from m2df_mmaction.datasets.episode_checks import check_files_exist
from m2df_mmaction.datasets.file_kinds import (is_video_name, non_video_name,
                                               sniff_non_video)
from m2df_mmaction.testing import test_video_pipeline

PIPELINE = test_video_pipeline()


def episodic(root, ann_file, **dataset_kwargs):
    inner = dict(
        type='VideoDataset',
        ann_file=ann_file,
        data_prefix=dict(video=root),
        pipeline=PIPELINE)
    inner.update(dataset_kwargs)
    return DATASETS.build(
        dict(
            type='EpisodicDataset',
            dataset=inner,
            num_ways=3,
            num_shots=1,
            num_queries=1,
            num_episodes=10,
            class_names=osp.join(root, 'train_classes.txt')))


def rows_of(root):
    return open(osp.join(root, 'train.txt')).read().splitlines()


def write(path, rows, end='\n'):
    path.write_text('\n'.join(rows) + end)
    return str(path)


@pytest.mark.parametrize('blank', ['', '   ', ' \t '])
def test_blank_and_whitespace_lines_are_named(tiny_benchmark, tmp_path,
                                              blank):
    rows = rows_of(tiny_benchmark)
    rows.insert(5, blank)
    rows.insert(20, blank)
    ann = write(tmp_path / 'train.txt', rows)
    with pytest.raises(ValueError) as error:
        episodic(tiny_benchmark, ann)
    message = str(error.value)
    assert message.startswith(f'{ann}: lines 6, 21 are blank')
    assert "sed -i '/^[[:space:]]*$/d'" in message


def test_trailing_blank_line_is_refused_but_final_newline_is_fine(
        tiny_benchmark, tmp_path):
    rows = rows_of(tiny_benchmark)
    # MMAction2 would make a video of the empty last line, too.
    ann = write(tmp_path / 'train.txt', rows, end='\n\n')
    with pytest.raises(ValueError, match=f'line {len(rows) + 1} is blank'):
        episodic(tiny_benchmark, ann)
    for end in ('\n', ''):
        ann = write(tmp_path / 'train.txt', rows, end=end)
        assert len(episodic(tiny_benchmark, ann).dataset) == len(rows)


def test_blank_line_in_an_already_built_dataset(tiny_benchmark, tmp_path):
    rows = rows_of(tiny_benchmark)
    rows.insert(2, '')
    ann = write(tmp_path / 'train.txt', rows)
    built = DATASETS.build(
        dict(
            type='VideoDataset',
            ann_file=ann,
            data_prefix=dict(video=tiny_benchmark),
            pipeline=PIPELINE))
    assert built.get_data_info(2)['filename'] == osp.join(tiny_benchmark,
                                                          '')  # the bug
    with pytest.raises(ValueError, match='line 3 is blank'):
        DATASETS.build(
            dict(
                type='EpisodicDataset',
                dataset=built,
                num_ways=3,
                num_shots=1,
                num_queries=1,
                num_episodes=10))


def test_relative_ann_file_under_data_root_is_checked(tiny_benchmark,
                                                      tmp_path):
    rows = [osp.join(tiny_benchmark, r) for r in rows_of(tiny_benchmark)]
    rows.insert(3, ' ')
    write(tmp_path / 'train.txt', rows)
    with pytest.raises(ValueError, match='line 4 is blank'):
        episodic('', 'train.txt', data_root=str(tmp_path))


def test_tab_or_double_space_separator_is_named(tiny_benchmark, tmp_path):
    rows = rows_of(tiny_benchmark)
    path, label = rows[7].split()
    for bad in (f'{path}\t{label}', f'{path}  {label}'):
        rows[7] = bad
        ann = write(tmp_path / 'train.txt', rows)
        with pytest.raises(ValueError,
                           match="line 8: fields must be separated by "
                           "exactly one ' '"):
            episodic(tiny_benchmark, ann)


def test_rawframe_annotations(tmp_path):
    ann = tmp_path / 'frames.txt'
    ann.write_text('a 8 0\n\nb 8 1\n')
    with pytest.raises(ValueError, match='line 2 is blank'):
        check_annotation_file(str(ann), 'RawframeDataset')
    ann.write_text('a 0 8 0\nb 2 8 1\n')
    assert check_annotation_file(
        str(ann), 'RawframeDataset', with_offset=True) == 2
    with pytest.raises(ValueError, match='4 fields, expected 3'):
        check_annotation_file(str(ann), 'RawframeDataset')


def test_text_file_listed_as_a_video_is_named_with_its_line(
        tiny_benchmark, tmp_path):
    notes = tmp_path / 'notes.txt'
    notes.write_text('remember to film more waving\n')
    image = tmp_path / 'cover'  # an image without an ending
    cv2.imwrite(str(tmp_path / 'cover.png'), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / 'cover.png').rename(image)
    rows = rows_of(tiny_benchmark)
    rows[3] = f'{notes} {rows[3].split()[1]}'  # absolute paths
    rows[9] = f'{image} {rows[9].split()[1]}'
    ann = write(tmp_path / 'train.txt', rows)
    with pytest.raises(ValueError) as error:
        episodic(tiny_benchmark, ann)
    message = str(error.value)
    assert f'2 of {len(rows)} entries of {ann} are not videos' in message
    assert (f'line 4: {notes} is a text file (first line: "remember to '
            'film more waving")') in message
    assert f'line 10: {image} is a PNG image' in message
    # check_files=False skips the check (and the existence check)
    dataset = DATASETS.build(
        dict(
            type='EpisodicDataset',
            dataset=dict(
                type='VideoDataset',
                ann_file=ann,
                data_prefix=dict(video=tiny_benchmark),
                pipeline=PIPELINE),
            num_ways=3,
            num_shots=1,
            num_queries=1,
            num_episodes=10,
            check_files=False))
    assert len(dataset.dataset) == len(rows)


def test_file_listed_as_a_frame_folder(tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').write_text('not a folder')
    ann = tmp_path / 'frames.txt'
    ann.write_text('a 8 0\nb 8 1\n')
    dataset = DATASETS.build(
        dict(
            type='RawframeDataset',
            ann_file=str(ann),
            data_prefix=dict(img=str(tmp_path)),
            pipeline=[]))
    with pytest.raises(ValueError) as error:
        check_files_exist(dataset, lambda i: f'line {i + 1}')
    assert f'line 2: {tmp_path / "b"} is a file, not a frame folder' in str(
        error.value)
    assert 'line 1' not in str(error.value)


def test_file_kinds(tiny_benchmark, tmp_path):
    video = osp.join(tiny_benchmark, rows_of(tiny_benchmark)[0].split()[0])
    assert is_video_name(video) and sniff_non_video(video) is None
    avi = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(avi, cv2.VideoWriter_fourcc(*'MJPG'), 8,
                             (16, 16))
    for _ in range(3):
        writer.write(np.zeros((16, 16, 3), np.uint8))
    writer.release()
    assert sniff_non_video(avi) is None
    renamed = tmp_path / 'clip'
    (tmp_path / 'clip.avi').rename(renamed)  # no ending: sniffed as video
    assert sniff_non_video(str(renamed)) is None
    (tmp_path / 'empty').write_bytes(b'')
    assert sniff_non_video(str(tmp_path / 'empty')) == 'is empty (0 bytes)'
    (tmp_path / 'binary').write_bytes(bytes(range(256)))
    assert sniff_non_video(str(tmp_path / 'binary')) is None  # unknown
    for pad in (0, 1):  # the 512-byte cut in the middle of a character
        (tmp_path / 'long.txt').write_text('x' * (100 + pad) + '\n' +
                                           'é' * 600)
        assert sniff_non_video(str(tmp_path / 'long.txt')) == \
            'is a text file (first line: "' + 'x' * 57 + '...")'
    assert non_video_name('a/notes.TXT') == 'text file'
    assert non_video_name('Thumbs.db') == 'system file'
    assert non_video_name('a/cover.jpeg') == 'image'
    assert non_video_name('a/clip.mp4') is None
    assert non_video_name('a/clip.xyz') is None
