# Copyright (c) m2df_mmaction contributors.
"""Exact resume on a damaged clip (issue 19): a training resumed half-way
ends with the very weights of an uninterrupted one."""
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                            'datasets'))
from damaged_video import write_damaged_clip  # noqa: E402
from test_train_test_resume import ROOT, TINY, run_tool  # noqa: E402

# The demo's training pipeline, decoded by VideoOrFramesDecode (forward
# only). With MMAction2's DecordInit/DecordDecode (seeks) the resumed
# run's weights differed by up to 9.6e-4 (57 of 57 tensors).
IN_ORDER = [
    'train_dataloader.dataset.dataset.pipeline.0.type=VideoOrFramesInit',
    'train_dataloader.dataset.dataset.pipeline.2.type=VideoOrFramesDecode'
]


def damaged_benchmark(tiny_benchmark, root):
    """The tiny benchmark with the first training video of each class
    replaced by a damaged MPEG-4 clip (every episode reads five)."""
    data = root / 'data' / 'synthetic'
    os.makedirs(data / 'damaged')
    for name in os.listdir(tiny_benchmark):
        if name != 'train.txt':
            os.symlink(osp.join(tiny_benchmark, name), data / name)
    clip = write_damaged_clip(str(data / 'damaged' / 'clip.avi'))
    lines = []
    with open(osp.join(tiny_benchmark, 'train.txt')) as f:
        for line in f:
            path, label = line.split()
            if path.endswith('/0.mp4'):
                path = osp.relpath(clip, data)
            lines.append(f'{path} {label}\n')
    (data / 'train.txt').write_text(''.join(lines))


def weights(work_dir, iteration):
    return torch.load(osp.join(work_dir, f'iter_{iteration}.pth'),
                      map_location='cpu')['state_dict']


def test_resume_is_exact_on_a_damaged_clip(tiny_benchmark, tmp_path):
    damaged_benchmark(tiny_benchmark, tmp_path)
    config = osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')
    options = ['--seed', '0', '--cfg-options', *TINY, *IN_ORDER]
    whole, halves = str(tmp_path / 'whole'), str(tmp_path / 'halves')
    run_tool('train.py', [config, '--work-dir', whole, *options], tmp_path)
    run_tool('train.py', [config, '--work-dir', halves, *options,
                          'train_cfg.max_iters=2'], tmp_path)
    run_tool('train.py', [config, '--work-dir', halves, '--resume',
                          *options], tmp_path)
    ours, resumed = weights(whole, 4), weights(halves, 4)
    assert ours.keys() == resumed.keys()
    differ = {k: (ours[k].float() - resumed[k].float()).abs().max().item()
              for k in ours if not torch.equal(ours[k], resumed[k])}
    assert not differ, differ
