# Copyright (c) m2df_mmaction contributors.
"""tools/data/build_fewshot_ann.py on tiny fake trees of real split lists."""
import csv
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from m2df_mmaction.datasets.fewshot_splits import (FEWSHOT_DATASETS, SPLITS,
                                                   class_name_key,
                                                   read_class_list,
                                                   read_clipfsar_list,
                                                   read_trx_list)
from m2df_mmaction.synthetic import write_video

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REAL_SPLITS = osp.join(ROOT, 'data', 'splits')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'data', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tool = load_tool('build_fewshot_ann')


def subset_splits(dst, dataset, num_classes, num_videos):
    """Real split lists cut to the first classes and videos of each split.

    Returns ``{(fmt, split): [lines]}`` of what was kept.
    """
    kept = {}
    for fmt in FEWSHOT_DATASETS[dataset]:
        src = osp.join(REAL_SPLITS, dataset, f'{fmt}_format')
        out = osp.join(dst, dataset, f'{fmt}_format')
        os.makedirs(out, exist_ok=True)
        for split in SPLITS:
            names_file = osp.join(REAL_SPLITS, dataset, 'clipfsar_format',
                                  f'classes_{split}.txt')
            if fmt == 'clipfsar':
                name = f'{split}_few_shot.txt'
                entries = read_clipfsar_list(osp.join(src, name), split)
                key = [e.index for e in entries]
                if osp.isfile(names_file):
                    with open(names_file) as f:
                        lines = f.readlines()[:num_classes]
                    with open(osp.join(out, f'classes_{split}.txt'),
                              'w') as f:
                        f.writelines(lines)
            else:
                name = f'{split}list03.txt'
                entries = read_trx_list(osp.join(src, name))
                if osp.isfile(names_file):  # keep the same classes
                    order = [class_name_key(n)
                             for n in read_class_list(names_file)]
                    key = [order.index(class_name_key(e.folder))
                           for e in entries]
                else:
                    classes = sorted({e.folder for e in entries})
                    key = [classes.index(e.folder) for e in entries]
            with open(osp.join(src, name)) as f:
                lines = [line for line in f if line.strip()]
            same_ids = fmt == 'trx' and dataset != 'kinetics100'
            if same_ids:  # the videos kept from the CLIP-FSAR list
                ids = {line.strip().rsplit('/', 1)[1].rsplit('.', 1)[0]
                       for line in kept[('clipfsar', split)]}
            per_class = {}
            keep = []
            for line, k in zip(lines, key):
                if same_ids:
                    if line.strip().rsplit('/', 1)[1] in ids:
                        keep.append(line)
                elif k < num_classes and per_class.get(k, 0) < num_videos:
                    per_class[k] = per_class.get(k, 0) + 1
                    keep.append(line)
            with open(osp.join(out, name), 'w') as f:
                f.writelines(keep)
            kept[(fmt, split)] = keep
    return kept


def fake_video(path, frames=10):
    frames = np.random.default_rng(len(str(path))).integers(
        0, 255, (frames, 32, 32, 3), dtype=np.uint8)
    write_video(str(path), frames)


def video_paths(dataset, fmt, split, lines):
    """Where a user's tree holds the listed videos (no tool code)."""
    paths = []
    for line in lines:
        line = line.strip()
        if dataset.startswith('ssv2'):
            paths.append(line.rsplit('/', 1)[1] + '.mp4')
        elif fmt == 'clipfsar':
            paths.append(line.split('//', 1)[1])
        else:
            folder, vid = line.rsplit('/', 1)
            ext = '.mp4' if dataset == 'kinetics100' else '.avi'
            paths.append(f'{folder.replace(" ", "_")}/{vid}{ext}')
    return paths


def read_ann(out, split):
    with open(osp.join(out, 'annotations', f'{split}.txt')) as f:
        rows = [line.split() for line in f]
    with open(osp.join(out, 'annotations', f'{split}_classes.txt')) as f:
        names = f.read().splitlines()
    return rows, names


def report_rows(out):
    with open(osp.join(out, 'annotations', 'verify_report.csv')) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('dataset', sorted(FEWSHOT_DATASETS))
def test_every_dataset_and_format(tmp_path, dataset):
    splits = str(tmp_path / 'splits')
    kept = subset_splits(splits, dataset, num_classes=2, num_videos=2)
    videos = tmp_path / 'videos'
    for (fmt, split), lines in kept.items():
        for path in video_paths(dataset, fmt, split, lines):
            if not osp.isfile(videos / path):
                fake_video(videos / path)
    extra = ['--ext', '.mp4'] if dataset.startswith('ssv2') else []
    for fmt in FEWSHOT_DATASETS[dataset]:
        out = str(tmp_path / f'out_{fmt}')
        split_args = ['--splits', 'train', 'test'] \
            if dataset == 'ssv2_full' else []
        assert tool.main([
            '--dataset', dataset, '--video-root', str(videos), '--out', out,
            '--format', fmt, '--splits-root', splits, '--workers', '1',
            '--no-progress', *extra, *split_args
        ]) == 0
        assert osp.realpath(osp.join(out, 'videos')) == str(videos)
        for split in (('train', 'test') if split_args else SPLITS):
            rows, names = read_ann(out, split)
            # exactly the listed videos, in list order, labelled in order
            assert [r[0] for r in rows] == video_paths(
                dataset, fmt, split, kept[(fmt, split)])
            assert sorted({int(r[1]) for r in rows}) == [0, 1]
            assert len(names) == 2
            if split != 'val':
                assert names == read_class_list(
                    osp.join(REAL_SPLITS, dataset, 'clipfsar_format',
                             f'classes_{split}.txt'))[:2]
            for path, label in rows:
                assert osp.isfile(osp.join(out, 'videos', path))
        assert report_rows(out) == []
        # the dataset config: these splits, 2 classes of 2 videos each
        from mmengine.config import Config
        ds = Config.fromfile(osp.join(out, 'dataset_config.py'))
        assert ds.data_root == out and ds.input_dir == 'videos'
        for split in SPLITS:
            if split_args and split == 'val':
                assert ds.splits.val is None  # not built: validation off
                continue
            assert ds.splits[split] == dict(
                ann_file=f'{out}/annotations/{split}.txt',
                class_names=f'{out}/annotations/{split}_classes.txt',
                num_classes=2, min_videos=2)


def broken_tree(tmp_path):
    """HMDB51 lists (3 test classes x 4 videos) with 5 broken videos."""
    splits = str(tmp_path / 'splits')
    kept = subset_splits(splits, 'hmdb51', num_classes=3, num_videos=4)
    videos = tmp_path / 'videos'
    for split in SPLITS:
        for path in video_paths('hmdb51', 'clipfsar', split,
                                kept[('clipfsar', split)]):
            fake_video(videos / path)
    test = video_paths('hmdb51', 'clipfsar', 'test',
                       kept[('clipfsar', 'test')])
    broken = {
        test[0]: 'missing',
        test[1]: 'empty',
        test[4]: 'too_short',  # an AVI cut in half: 2 frames are left
        test[5]: 'unreadable',  # random bytes
        test[8]: 'too_short',
    }
    os.remove(videos / test[0])
    open(videos / test[1], 'w').close()
    data = (videos / test[4]).read_bytes()
    (videos / test[4]).write_bytes(data[:len(data) // 2])
    (videos / test[5]).write_bytes(
        np.random.default_rng(0).bytes(3000))
    fake_video(videos / test[8], frames=3)
    return splits, videos, broken


def test_strict_fails_and_reports_each_problem(tmp_path, capsys):
    splits, videos, broken = broken_tree(tmp_path)
    out = str(tmp_path / 'out')
    args = ['--dataset', 'hmdb51', '--video-root', str(videos), '--out', out,
            '--splits-root', splits, '--workers', '2', '--no-progress']
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert '5 of 36 listed videos have problems' in err
    assert 'missing 1, empty 1, unreadable 1, too_short 2' in err
    assert 'test 5' in err and 'verify_report.csv' in err
    rows = report_rows(out)
    assert {r['video']: r['problem'] for r in rows} == broken
    assert {r['split'] for r in rows} == {'test'}
    assert not osp.exists(osp.join(out, 'annotations', 'test.txt'))

    # --allow-missing: a class would keep 2 < 6 videos -> refused
    assert tool.main(args + ['--allow-missing']) == 1
    captured = capsys.readouterr()
    assert 'fewer' not in captured.err and 'too few videos' in captured.err
    for path in broken:
        assert path in captured.out  # each dropped video is printed
    assert not osp.exists(osp.join(out, 'annotations', 'test.txt'))

    # ... unless the user lowers the minimum
    assert tool.main(args + ['--allow-missing', '--min-videos-per-class',
                             '2']) == 0
    rows, _ = read_ann(out, 'test')
    assert len(rows) == 12 - 5
    assert not {r[0] for r in rows} & set(broken)
    assert len(read_ann(out, 'train')[0]) == 12


def test_truncated_and_corrupt_mp4(tmp_path):
    """An mp4 cut in half does not open; one whose second half is zeroed
    opens, but its sampled frames do not decode."""
    import imageio_ffmpeg
    path = str(tmp_path / 'a.mp4')
    subprocess.run([
        imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-f',
        'lavfi', '-i', 'testsrc=size=64x48:rate=12:duration=3', '-c:v',
        'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', path
    ], check=True)
    assert tool.check_video(path, 8, 8) is None
    data = open(path, 'rb').read()
    half = len(data) // 2
    open(path, 'wb').write(data[:half])
    assert tool.check_video(path, 8, 8)[0] == 'unreadable'
    open(path, 'wb').write(data[:half] + bytes(len(data) - half))
    problem, detail = tool.check_video(path, 8, 8)
    assert problem == 'undecodable', detail


def test_rawframes(tmp_path, capsys):
    splits = str(tmp_path / 'splits')
    kept = subset_splits(splits, 'hmdb51', num_classes=2, num_videos=2)
    frames = tmp_path / 'frames'
    image = np.full((32, 32, 3), 128, np.uint8)
    dirs = []
    for split in SPLITS:
        for line in kept[('trx', split)]:
            d = frames / line.strip()
            os.makedirs(d)
            for i in range(1, 10):
                cv2.imwrite(str(d / f'img_{i:05}.jpg'), image)
            dirs.append(d)
    (dirs[0] / 'img_00005.jpg').write_bytes(b'not a jpeg')
    out = str(tmp_path / 'out')
    args = ['--dataset', 'hmdb51', '--video-root', str(frames), '--out', out,
            '--splits-root', splits, '--rawframes', '--workers', '1',
            '--no-progress', '--format', 'trx']
    assert tool.main(args) == 1
    assert [r['problem'] for r in report_rows(out)] == ['undecodable']
    cv2.imwrite(str(dirs[0] / 'img_00005.jpg'), image)
    assert tool.main(args) == 0
    rows, names = read_ann(out, 'train')
    assert rows[0] == [kept[('trx', 'train')][0].strip(), '9', '0']
    assert osp.realpath(osp.join(out, 'rawframes')) == str(frames)

    # the example config reads it: RawframeDataset inside EpisodicDataset
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets',
                 'rawframes_example.py')).test_dataloader.dataset
    cfg.dataset.ann_file = osp.join(out, 'annotations', 'test.txt')
    cfg.dataset.data_prefix.img = osp.join(out, 'rawframes')
    cfg.class_names = osp.join(out, 'annotations', 'test_classes.txt')
    cfg.update(num_ways=2, num_episodes=1)
    episode = DATASETS.build(cfg)[0]
    assert episode['inputs'].shape == (4, 8, 3, 224, 224)


def test_custom_dataset(tmp_path):
    root = tmp_path / 'mine'
    classes = [f'class_{c}' for c in 'abcdefgh']
    for c in classes:
        for i in range(2):
            fake_video(root / c / f'{i}.mp4')
    out = str(tmp_path / 'out')
    base = ['--dataset', 'custom', '--video-root', str(root), '--out', out,
            '--workers', '1', '--no-progress']
    assert tool.main(base + ['--split-ratio', '4,2,2', '--seed', '1']) == 0
    with open(osp.join(out, 'annotations', 'class_splits.json')) as f:
        assigned = json.load(f)
    assert [len(assigned[s]) for s in SPLITS] == [4, 2, 2]
    assert sorted(sum(assigned.values(), [])) == classes
    rows, names = read_ann(out, 'val')
    assert names == [n.replace('_', ' ') for n in assigned['val']]
    assert rows[0] == [f'{assigned["val"][0]}/0.mp4', '0']

    spec = tmp_path / 'splits.json'
    spec.write_text(json.dumps(dict(train=classes[:5], val=[classes[5]],
                                    test=classes[5:])))
    with pytest.raises(SystemExit, match='several splits'):
        tool.main(base + ['--class-splits', str(spec)])


def test_episodes_run_over_the_tool_output(tmp_path):
    """Fake HMDB51 tree -> tool -> tools/test.py runs episodes on it."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    splits = str(tmp_path / 'splits')
    kept = subset_splits(splits, 'hmdb51', num_classes=5, num_videos=2)
    videos = tmp_path / 'videos'
    for line in kept[('clipfsar', 'test')]:
        fake_video(videos / line.strip().split('//', 1)[1])
    out = str(tmp_path / 'hmdb51')
    assert tool.main([
        '--dataset', 'hmdb51', '--video-root', str(videos), '--out', out,
        '--splits-root', splits, '--splits', 'test', '--workers', '1',
        '--no-progress'
    ]) == 0

    config = osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / 'random.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    ds = 'test_dataloader.dataset'
    options = [
        f'{ds}.dataset.ann_file={out}/annotations/test.txt',
        f'{ds}.dataset.data_prefix.video={out}/videos',
        f'{ds}.class_names={out}/annotations/test_classes.txt',
        f'{ds}.num_episodes=4', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), config, ckpt,
         '--work-dir', str(tmp_path / 'work'), '--cfg-options', *options],
        cwd=tmp_path, env=dict(os.environ, HF_HUB_OFFLINE='1',
                               OMP_NUM_THREADS='2'),
        capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert 'fewshot/accuracy' in output


def test_transcode_webm_resumable(tmp_path):
    """SSv2-style webm: decord reads it as it is; the transcoder makes mp4s,
    skips finished ones and never takes a partial file as done."""
    import decord
    transcode = load_tool('transcode_videos')
    exe = transcode.ffmpeg_exe()
    src = tmp_path / 'webm'
    os.makedirs(src)
    for vid in ('101', '202'):
        subprocess.run([
            exe, '-y', '-loglevel', 'error', '-f', 'lavfi', '-i',
            'testsrc=size=64x48:rate=12:duration=1', '-c:v', 'libvpx-vp9',
            str(src / f'{vid}.webm')
        ], check=True)
    assert len(decord.VideoReader(str(src / '101.webm'))) == 12
    dst = tmp_path / 'mp4'
    os.makedirs(dst)
    (dst / '101.mp4.part').write_bytes(b'interrupted')  # a killed run
    (dst / '202.mp4').write_bytes(b'finished before')  # a finished one
    args = ['--src', str(src), '--dst', str(dst), '--workers', '2',
            '--no-progress']
    assert transcode.main(args) == 0
    assert (dst / '202.mp4').read_bytes() == b'finished before'
    assert not (dst / '101.mp4.part').exists()
    assert tool.check_video(str(dst / '101.mp4'), 8, 8) is None
    assert transcode.pick_codec(exe) in ('libx264', 'mpeg4')
    # a listed source that is not there (--from-splits) is reported
    assert transcode.transcode_one(exe, str(src / '303.webm'),
                                   str(dst / '303.mp4'), [])[0] == 'missing'


def test_extract_frames_and_the_config_switch(tmp_path):
    """--extract-frames writes OUT/frames; a dataset config with
    input_dir = 'frames' reads it through the same pipeline and
    annotations, and its episodes match those of the videos."""
    import shutil

    from mmaction.registry import DATASETS
    from mmengine.config import Config
    splits = str(tmp_path / 'splits')
    kept = subset_splits(splits, 'hmdb51', num_classes=5, num_videos=2)
    videos = tmp_path / 'videos'
    for line in kept[('clipfsar', 'test')]:
        fake_video(videos / line.strip().split('//', 1)[1])
    out = str(tmp_path / 'hmdb51')
    args = ['--dataset', 'hmdb51', '--video-root', str(videos), '--out', out,
            '--splits-root', splits, '--splits', 'test', '--workers', '2',
            '--no-progress', '--extract-frames', '--short-side', '32']
    assert tool.main(args) == 0
    rows, _ = read_ann(out, 'test')
    for path, _ in rows:
        with open(osp.join(out, 'frames', path, 'frames.json')) as f:
            assert json.load(f)['total_frames'] == 10
    assert tool.main(args) == 0  # a rerun skips the finished clips

    configs = tmp_path / 'configs'
    shutil.copytree(osp.join(ROOT, 'configs'), configs)

    def test_episode(input_dir):
        dataset_cfg = configs / '_base_' / 'datasets' / 'hmdb51.py'
        text = dataset_cfg.read_text()
        assert text.count("input_dir = 'videos'") == 1  # the one switch
        dataset_cfg.write_text(
            text.replace("input_dir = 'videos'", f"input_dir = '{input_dir}'")
            .replace("data_root = 'data/hmdb51'", f"data_root = '{out}'"))
        cfg = Config.fromfile(str(configs / 'm2df_hmdb51_5w1s.py'))
        dataset_cfg.write_text(text)
        ds = cfg.test_dataloader.dataset
        assert ds.dataset.data_prefix.video == f'{out}/{input_dir}'
        # VideoOrFramesInit/Decode read both (drop-ins of DecordInit/Decode)
        assert ds.dataset.pipeline[0]['type'] == 'VideoOrFramesInit'
        ds.num_episodes = 2
        return DATASETS.build(ds)[1]

    on_frames, on_videos = test_episode('frames'), test_episode('videos')
    assert on_frames['inputs'].shape == (10, 8, 3, 224, 224)
    assert on_frames['data_samples'].video_indices == \
        on_videos['data_samples'].video_indices
    frames, video = on_frames['inputs'].float(), on_videos['inputs'].float()
    # JPEG loss only (q 90 on frames of random noise) ...
    assert (frames - video).abs().mean() < 15
    # ... much less than between different videos
    assert (frames - video.roll(1, 0)).abs().mean() > 40


def write_clip(path, fourcc, seed, frames=12):
    """A 32 px clip of moving noise in the given OpenCV codec."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 255, (32, 64, 3),
                                                 dtype=np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 8,
                             (32, 32))
    assert writer.isOpened(), fourcc
    for t in range(frames):
        writer.write(np.ascontiguousarray(image[:, t:t + 32]))
    writer.release()


def run_tool(name, args, cwd):
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', name), *args], cwd=cwd,
        env=dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='2'),
        capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


# The demo, shrunk to seconds (a config of the user's: the documented
# commands then take the dataset with one override).
TINY_CONFIG = """_base_ = [{base!r}]
train_cfg = dict(max_iters=2, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(num_episodes=4))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(num_episodes=4))
"""


def test_dataset_config_frames_no_val_end_to_end(tmp_path, capsys):
    """Folder-per-class clips in two codecs -> the tool (--extract-frames,
    no val classes) -> OUT/dataset_config.py -> train.py, test.py and a
    fine-tune, each with the one override (the videos are then gone: the
    frames are what is read)."""
    root = tmp_path / 'clips'
    classes = [f'class_{c}' for c in 'abcdef']
    for n, c in enumerate(classes):
        for i in range(4):  # mp4v .mp4 and MJPG .avi
            write_clip(root / c / (f'{i}.mp4' if n % 2 else f'{i}.avi'),
                       'mp4v' if n % 2 else 'MJPG', 10 * n + i)
    spec = tmp_path / 'splits.json'
    spec.write_text(json.dumps(dict(train=classes[:3], test=classes[3:])))
    out = tmp_path / 'mine'
    assert tool.main([
        '--dataset', 'custom', '--video-root', str(root), '--out', str(out),
        '--class-splits', str(spec), '--workers', '1', '--no-progress',
        '--extract-frames', '--short-side', '32'
    ]) == 0
    printed = capsys.readouterr().out
    path = str(out / 'dataset_config.py')
    assert f'dataset config: {path} (reads the frames)' in printed
    option = f'fewshot_dataset={path}'
    assert f'tools/test.py CONFIG CKPT --cfg-options {option}' in printed
    assert f'{option} --load-from CKPT' in printed
    assert 'configs/_base_/datasets/custom.py' not in printed
    text = open(path).read()
    assert "input_dir = 'frames'" in text and 'val=None' in text
    assert '3 classes, 12 videos, at least 4 per class' in text
    os.rename(root, tmp_path / 'gone')  # only the frames are left

    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG.format(
        base=osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')))
    work = tmp_path / 'work'
    log = run_tool('train.py', [str(config), '--work-dir', str(work),
                                '--cfg-options', option], tmp_path)
    assert log.count('has no val split: validation is OFF') == 1
    assert 'train: 3 classes, so 3-way episodes instead of 5-way' in log
    assert 'so 3 queries per class instead of 5' in log
    assert 'Iter(val)' not in log  # nothing validated ...
    assert not [f for f in os.listdir(work) if f.startswith('best')]
    ckpt = str(work / 'iter_2.pth')  # ... and the last checkpoint is kept

    log = run_tool('test.py', [str(config), ckpt, '--work-dir', str(work),
                               '--cfg-options', option], tmp_path)
    assert 'test: 3 classes, so 3-way episodes' in log
    assert 'fewshot/accuracy' in log

    # fine-tune: a config of the user's naming the dataset, one flag
    config.write_text(config.read_text() + f'fewshot_dataset = {path!r}\n')
    log = run_tool('train.py', [str(config), '--work-dir',
                                str(tmp_path / 'tuned'), '--load-from',
                                ckpt], tmp_path)
    assert f'Load checkpoint from {ckpt}' in log
    assert osp.isfile(tmp_path / 'tuned' / 'iter_2.pth')
