# Copyright (c) m2df_mmaction contributors.
"""tools/data/extract_frames.py: parallel, resumable, verified."""
import importlib.util
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest

from m2df_mmaction.datasets.transforms.loading import FRAMES_META
from m2df_mmaction.synthetic import write_video

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, osp.join(ROOT, 'tools', 'data', f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


tool = load_tool('extract_frames')
SETTINGS = tool.ExtractSettings(short_side=32, jpeg_quality=80)


def videos(root, names=('a/1.mp4', 'a/2.mp4', 'b/3.mp4'), frames=12):
    for i, name in enumerate(names):
        write_video(str(root / name), np.random.default_rng(i).integers(
            0, 255, (frames, 24, 40, 3), dtype=np.uint8))
    return list(names)


def meta(folder):
    with open(osp.join(folder, FRAMES_META)) as f:
        return json.load(f)


def run(names, src, out, settings=SETTINGS, workers=1):
    return tool.extract_videos(names, str(src), str(out), settings,
                               workers=workers, progress=False)


def test_extracts_verified_frames(tmp_path, capsys):
    names = videos(tmp_path / 'v')
    ann = tmp_path / 'train.txt'
    ann.write_text(''.join(f'{n} 0\n' for n in names + names[:1]))
    out = tmp_path / 'frames'
    assert tool.main(['--video-root', str(tmp_path / 'v'), '--out', str(out),
                      '--ann-files', str(ann), '--workers', '2',
                      '--short-side', '32', '--no-progress']) == 0
    printed = capsys.readouterr().out
    assert 'extracted 3, already there 0, failed 0' in printed
    assert 'GB per 1,000 clips' in printed and 'min per 1,000' in printed
    for name in names:
        info = meta(out / name)
        assert info['total_frames'] == info['source_frames'] == 12
        assert (info['height'], info['width']) == (32, 53)  # as Resize
        assert len(os.listdir(out / name)) == 12 + 1
        assert info['bytes'] == sum(
            osp.getsize(out / name / f) for f in os.listdir(out / name)
            if f.endswith('.jpg'))
    assert tool.read_ann_videos([str(ann)]) == names
    assert tool.find_videos(str(tmp_path / 'v')) == names


def test_resumes_and_never_counts_partial_output(tmp_path, monkeypatch):
    src, out = tmp_path / 'v', tmp_path / 'frames'
    names = videos(src)
    assert [r.status for r in run(names[:1], src, out)] == ['done']
    first = osp.getmtime(out / names[0] / FRAMES_META)

    # a run interrupted while writing the second clip
    real = tool._write_frames

    def interrupted(video, part, settings):
        real(video, part, settings)
        raise KeyboardInterrupt

    monkeypatch.setattr(tool, '_write_frames', interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(names[1:2], src, out)
    monkeypatch.setattr(tool, '_write_frames', real)
    assert osp.isdir(f'{out / names[1]}.part')  # left behind ...
    assert not osp.exists(out / names[1])  # ... but not as a finished clip
    assert not tool.is_done(str(out / names[1]), str(src / names[1]),
                            SETTINGS)

    results = run(names, src, out, workers=2)
    assert [r.status for r in results] == ['skipped', 'done', 'done']
    assert not osp.exists(f'{out / names[1]}.part')
    assert osp.getmtime(out / names[0] / FRAMES_META) == first
    assert results[0].num_bytes == meta(out / names[0])['bytes']

    # other settings or a changed source: redone, not skipped
    finer = tool.ExtractSettings(short_side=32, jpeg_quality=95)
    assert [r.status for r in run(names[:1], src, out, finer)] == ['done']
    assert meta(out / names[0])['jpeg_quality'] == 95
    videos(src, names[1:2], frames=10)
    assert [r.status for r in run(names[1:2], src, out)] == ['done']
    assert meta(out / names[1])['total_frames'] == 10


def test_bad_videos_fail_with_their_name(tmp_path, capsys):
    src, out = tmp_path / 'v', tmp_path / 'frames'
    names = videos(src, ('ok.mp4', ))
    (src / 'junk.mp4').write_bytes(np.random.default_rng(0).bytes(2000))
    (src / 'empty.mp4').touch()
    os.makedirs(out / 'taken.mp4')  # someone else's folder
    videos(src, ('taken.mp4', ))
    results = run(names + ['junk.mp4', 'empty.mp4', 'none.mp4', 'taken.mp4'],
                  src, out)
    status = {osp.basename(r.video): (r.status, r.message) for r in results}
    assert status['ok.mp4'][0] == 'done'
    assert status['empty.mp4'] == ('failed', 'empty: 0 bytes')
    assert status['none.mp4'] == ('failed', 'missing: no such file')
    assert status['junk.mp4'][0] == 'failed' and status['junk.mp4'][1]
    assert 'taken.mp4 exists' in status['taken.mp4'][1]
    assert os.listdir(out / 'taken.mp4') == []  # untouched
    assert not osp.exists(out / 'junk.mp4') and \
        not osp.exists(out / 'junk.mp4.part')
    printed = capsys.readouterr().out
    assert 'failed 4' in printed and f'failed: {src / "junk.mp4"}' in printed
    assert tool.main(['--video-root', str(src), '--out', str(out),
                      '--no-progress', '--workers', '1']) == 1


def test_unwritable_output_names_the_folder(tmp_path):
    src = tmp_path / 'v'
    names = videos(src, ('a.mp4', ))
    (tmp_path / 'file').write_text('not a folder')
    out = tmp_path / 'file' / 'frames'
    with pytest.raises(SystemExit, match=f'cannot write frames to {out}'):
        run(names, src, out)
    with pytest.raises(SystemExit, match='jpeg-quality'):
        tool.main(['--video-root', str(src), '--out', str(tmp_path / 'o'),
                   '--jpeg-quality', '0'])


def test_rerun_repairs_missing_and_damaged_frames(tmp_path, capsys):
    """A finished folder whose JPEGs were deleted or damaged is not
    'already there': a rerun extracts it again and says so."""
    src, out = tmp_path / 'v', tmp_path / 'frames'
    names = videos(src)
    run(names, src, out)
    good = (out / names[0] / 'img_00007.jpg').read_bytes()
    os.remove(out / names[0] / 'img_00007.jpg')  # deleted
    (out / names[1] / 'img_00004.jpg').write_bytes(b'not a jpeg')  # damaged
    capsys.readouterr()
    results = run(names, src, out)
    assert [r.status for r in results] == ['repaired', 'repaired', 'skipped']
    assert results[0].message == 'too_short: 11 frames, expected 12'
    assert results[1].message == 'undecodable: img_00004.jpg does not decode'
    assert (out / names[0] / 'img_00007.jpg').read_bytes() == good
    printed = capsys.readouterr().out
    assert 'extracted 2, already there 1, failed 0 (repaired 2' in printed
    assert f'repaired: {src / names[0]}: too_short' in printed
    # a damaged frame the default check does not decode (not sampled) ...
    (out / names[2] / 'img_00005.jpg').write_bytes(b'not a jpeg')
    assert [r.status for r in run(names, src, out)] == ['skipped'] * 3
    # ... --verify-all decodes every frame and finds it
    assert tool.main(['--video-root', str(src), '--out', str(out),
                      '--short-side', '32', '--jpeg-quality', '80',
                      '--verify-all', '--workers', '1',
                      '--no-progress']) == 0
    assert 'repaired: ' + str(src / names[2]) + ': undecodable: ' \
        'img_00005.jpg does not decode' in capsys.readouterr().out
    assert [r.status for r in run(names, src, out,
                                  tool.ExtractSettings(32, 80, 1, 'all'))
            ] == ['skipped'] * 3


def test_frame_step_never_seeks(tmp_path):
    """With --frame-step the kept frames are those decoding in order gives
    (VideoOrFramesDecode's), also on a damaged stream."""
    import decord
    sys.path.insert(0, osp.join(ROOT, 'tests', 'datasets'))
    from damaged_video import write_damaged_clip
    src, out = tmp_path / 'v', tmp_path / 'frames'
    os.makedirs(src)
    write_damaged_clip(str(src / 'bad.avi'))
    settings = tool.ExtractSettings(short_side=0, jpeg_quality=100,
                                    frame_step=5)
    assert [r.status for r in run(['bad.avi'], src, out, settings)] == \
        ['done']
    reader = decord.VideoReader(str(src / 'bad.avi'), num_threads=1)
    truth = [reader.next().asnumpy() for _ in range(len(reader))]
    info = meta(out / 'bad.avi')
    assert info['total_frames'] == len(range(0, len(truth), 5))
    import cv2
    for j, i in enumerate(range(0, len(truth), 5)):
        image = cv2.imread(str(out / 'bad.avi' / f'img_{j + 1:05}.jpg'))
        image = image[..., ::-1].astype(int)
        diff = np.abs(image - truth[i]).mean()
        other = np.abs(image - truth[i + 1]).mean()
        assert diff < 6 and other > 2 * diff, (i, diff, other)  # JPEG only
