# Copyright (c) m2df_mmaction contributors.
"""Plain ``TestLoop`` vs ``CachedEpisodicTestLoop`` on the same episodes.

Prints, per episode count: videos decoded, frames through the backbone,
wall time of both loops, the speed-up, both accuracies, and the cached
loop's total against one plain encode pass over the distinct videos::

    HF_HUB_OFFLINE=1 python benchmarks/eval_speed.py \
        --episodes 1000 10000 [--config configs/otam_demo_5w1s.py]

Runs on the synthetic benchmark (``data/synthetic``) with the config's
randomly initialised model; on a GPU machine the runner puts it on the GPU.
"""
import argparse
import multiprocessing
import os
import os.path as osp
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import m2df_mmaction  # noqa: F401,E402
from m2df_mmaction.datasets import EpisodicDataset  # noqa: E402
from m2df_mmaction.engine.loops.cached_episodic_loop import \
    _VideoSubset  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config', default=osp.join(ROOT, 'configs', 'otam_demo_5w1s.py'))
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data',
                                                        'synthetic'))
    parser.add_argument(
        '--episodes', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument(
        '--plain-max-episodes',
        type=int,
        default=None,
        help='run the plain loop on at most this many episodes and '
        'extrapolate its time linearly (printed as such)')
    parser.add_argument('--workers', type=int, default=None,
                        help='dataloader workers (default: the config\'s)')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--work-dir', default='/tmp/m2df_eval_speed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


class Counters:
    """Count decoded videos (in any dataloader worker) and frames through
    the backbone."""

    decoded = multiprocessing.Value('l', 0)  # shared with forked workers

    def __init__(self, runner):
        self.frames = 0
        backbone = runner.model.backbone
        forward = backbone.forward

        def counting_forward(x, *args, **kwargs):
            self.frames += x.shape[0]
            return forward(x, *args, **kwargs)

        backbone.forward = counting_forward
        load_video = EpisodicDataset.load_video

        def counting_load(dataset, index):
            with Counters.decoded.get_lock():
                Counters.decoded.value += 1
            return load_video(dataset, index)

        if not hasattr(load_video, 'counted'):
            counting_load.counted = True
            EpisodicDataset.load_video = counting_load

    @property
    def videos(self):
        return Counters.decoded.value

    def reset(self):
        self.frames = 0
        Counters.decoded.value = 0


def build_runner(args, num_episodes):
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.param_scheduler = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 10**9
    cfg.log_level = 'WARNING'
    loader = cfg.test_dataloader
    loader.persistent_workers = False
    if args.workers is not None:
        loader.num_workers = args.workers
    if args.batch_size is not None:
        loader.batch_size = args.batch_size
    root = args.data_root
    episodic = loader.dataset
    episodic.num_episodes = num_episodes
    episodic.class_names = f'{root}/test_classes.txt'
    episodic.dataset.ann_file = f'{root}/test.txt'
    episodic.dataset.data_prefix = dict(video=root)
    cfg.test_cfg = dict(type='TestLoop')
    return Runner.from_cfg(cfg)


def timed_test(runner, counters, loop):
    counters.reset()
    runner._test_loop = dict(type=loop)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    metrics = runner.test()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return dict(
        seconds=time.perf_counter() - start,
        videos=counters.videos,
        frames=counters.frames,
        accuracy=metrics['fewshot/accuracy'],
        ci95=metrics['fewshot/ci95'])


@torch.no_grad()
def one_encode_pass(runner, counters, video_ids):
    """Time one plain pass (decode + preprocess + backbone) over videos."""
    counters.reset()
    model = runner.model
    model.eval()
    loader = runner.test_dataloader
    episodic = loader.dataset
    videos_per_episode = episodic.num_ways * (
        episodic.num_shots + episodic.num_queries)
    data = torch.utils.data.DataLoader(
        _VideoSubset(episodic, video_ids),
        batch_size=loader.batch_size * videos_per_episode,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn)
    start = time.perf_counter()
    for batch in data:
        batch = model.data_preprocessor(batch, False)
        model.encode_frames(batch['inputs'].flatten(0, 1))
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    args = parse_args()
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
    MMLogger.get_instance('mmengine', log_level='WARNING')
    rows = []
    for num_episodes in args.episodes:
        runner = build_runner(args, num_episodes)
        counters = Counters(runner)
        dataset = runner.test_dataloader.dataset
        video_ids = np.unique(
            np.concatenate([
                dataset.episode_video_indices(dataset.sample_episode(i))
                for i in range(num_episodes)
            ]))
        cached = timed_test(runner, counters, 'CachedEpisodicTestLoop')
        plain_episodes = min(num_episodes, args.plain_max_episodes
                             or num_episodes)
        if plain_episodes < num_episodes:
            runner = build_runner(args, plain_episodes)
            counters = Counters(runner)
        plain = timed_test(runner, counters, 'TestLoop')
        scale = num_episodes / plain_episodes
        one_pass = one_encode_pass(runner, counters, video_ids)
        rows.append((num_episodes, plain_episodes, len(video_ids), plain,
                     cached, scale, one_pass))

    print(f'\nconfig: {osp.relpath(args.config, ROOT)}; '
          f'torch threads {torch.get_num_threads()}; device '
          f'{"cuda" if torch.cuda.is_available() else "cpu"}')
    header = (f'{"episodes":>9} {"distinct":>8} | {"plain s":>9} '
              f'{"decoded":>8} {"frames":>9} {"acc %":>12} | '
              f'{"cached s":>8} {"decoded":>7} {"frames":>7} '
              f'{"acc %":>12} | {"speed-up":>8} | {"1 pass s":>8} '
              f'{"cached/1 pass":>13}')
    print(header)
    print('-' * len(header))
    for (num, plain_num, distinct, plain, cached, scale, one_pass) in rows:
        note = '' if plain_num == num else f' (plain: {plain_num} ep. x' \
            f'{scale:.0f}, extrapolated)'
        plain_s = plain['seconds'] * scale
        print(f'{num:>9} {distinct:>8} | {plain_s:>9.1f} '
              f'{plain["videos"] * scale:>8.0f} '
              f'{plain["frames"] * scale:>9.0f} '
              f'{plain["accuracy"]:>5.2f}+-{plain["ci95"]:<5.2f} | '
              f'{cached["seconds"]:>8.1f} {cached["videos"]:>7} '
              f'{cached["frames"]:>7} '
              f'{cached["accuracy"]:>5.2f}+-{cached["ci95"]:<5.2f} | '
              f'{plain_s / cached["seconds"]:>7.1f}x | {one_pass:>8.2f} '
              f'{cached["seconds"] / one_pass:>12.2f}x{note}')


if __name__ == '__main__':
    main()
