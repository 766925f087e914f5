# Copyright (c) m2df_mmaction contributors.
"""Plain ``TestLoop`` vs ``CachedEpisodicTestLoop`` on the same episodes.

Prints, per episode count: videos decoded, frames through the backbone,
wall time of both loops, the speed-up, both accuracies, and the cached
loop's total against one plain encode pass over the distinct videos; then
where the cached loop's time goes, from a second, instrumented run
(drawing the episodes, the encode pass,
building the data samples, head calls, moving predictions to the host,
``evaluator.process``, hooks, the final ``evaluate`` and the rest)::

    HF_HUB_OFFLINE=1 python benchmarks/eval_speed.py \
        --episodes 1000 10000 [--config configs/otam_demo_5w1s.py] \
        [--plain-max-episodes 300 | --no-plain] [--json out.json]

Runs on the synthetic benchmark (``data/synthetic``) with the config's
randomly initialised model, on the GPU when there is one (``--device cpu``
hides it).
"""
import argparse
import json
import multiprocessing
import os
import os.path as osp
import sys
import time
from collections import defaultdict
from contextlib import contextmanager

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
if '--device' in sys.argv and \
        sys.argv[sys.argv.index('--device') + 1:][:1] == ['cpu']:
    os.environ['CUDA_VISIBLE_DEVICES'] = ''  # before torch is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.evaluator import Evaluator  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import m2df_mmaction  # noqa: F401,E402
from m2df_mmaction.datasets import EpisodicDataset  # noqa: E402
from m2df_mmaction.engine.loops import cached_episodic_loop  # noqa: E402
from m2df_mmaction.engine.loops.feature_cache import \
    VideoSubset  # noqa: E402


def parse_args(argv=None):
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
    parser.add_argument('--no-plain', action='store_true',
                        help='skip the plain loop')
    parser.add_argument(
        '--no-breakdown', action='store_true',
        help='skip the instrumented second run of the cached loop')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None,
                        help='cpu hides the GPU (default: cuda if any)')
    parser.add_argument('--json', help='write the figures to this file')
    parser.add_argument('--workers', type=int, default=None,
                        help='dataloader workers (default: the config\'s)')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--work-dir', default='/tmp/m2df_eval_speed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


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

        def counting_load(dataset, index, *args, **kwargs):
            with Counters.decoded.get_lock():
                Counters.decoded.value += 1
            return load_video(dataset, index, *args, **kwargs)

        if not hasattr(load_video, 'counted'):
            counting_load.counted = True
            EpisodicDataset.load_video = counting_load

    @property
    def videos(self):
        return Counters.decoded.value

    def reset(self):
        self.frames = 0
        Counters.decoded.value = 0


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class PhaseTimers:
    """Wall time of the cached loop's parts, by wrapping the functions it
    calls (synchronised on CUDA, so device work is charged to the part
    that queued it). Installed once; ``reset`` before each run.
    """

    PARTS = ('build the loop (dataset, dataloader)',
             'draw episodes (main process)', 'encode pass',
             'build data samples', 'head calls', 'predictions to host',
             'evaluator.process', 'hooks', 'evaluate')

    current = None  # the instance the wrapped functions report to

    def __init__(self, runner):
        self.seconds = defaultdict(float)
        self.depth = 0
        PhaseTimers.current = self
        self._wrap(runner, 'build_test_loop',
                   'build the loop (dataset, dataloader)', static=True)
        self._wrap(EpisodicDataset, 'sample_episode',
                   'draw episodes (main process)')
        self._wrap(EpisodicDataset, 'build_data_sample',
                   'build data samples')
        for loop in (cached_episodic_loop.CachedEpisodicTestLoop, ):
            self._wrap(loop, 'encode_videos', 'encode pass')
        self._wrap(type(runner.model), 'predict_from_features',
                   'head calls')
        self._wrap(cached_episodic_loop, '_copy_predictions_to_host',
                   'predictions to host', static=True)
        self._wrap(Evaluator, 'process', 'evaluator.process')
        self._wrap(Evaluator, 'evaluate', 'evaluate')
        self._wrap(runner, 'call_hook', 'hooks', static=True)

    @contextmanager
    def part(self, name):
        if self.depth:  # count the outermost part only
            yield
            return
        self.depth += 1
        _sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            _sync()
            self.seconds[name] += time.perf_counter() - start
            self.depth -= 1

    def _wrap(self, owner, attr, name, static=False):
        fn = getattr(owner, attr, None)
        if fn is None or getattr(fn, 'timed', False):
            return  # absent in this version of the loop, or wrapped

        def timed(*args, **kwargs):
            with PhaseTimers.current.part(name):
                return fn(*args, **kwargs)

        timed.timed = True
        setattr(owner, attr, timed if static else _method(timed))

    def reset(self):
        self.seconds.clear()

    def report(self, total):
        rows = {name: self.seconds.get(name, 0.0) for name in self.PARTS}
        rows['other (loop, runner, Python)'] = total - sum(rows.values())
        return rows


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    method.timed = True
    return method


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


def timed_test(runner, counters, loop, timers=None):
    """``runner.test()`` with ``loop``: its wall time, and the part of it
    spent building the loop (the dataset and its dataloader, which any
    test loop builds: mostly MMEngine's ``gc.collect()`` after serialising
    the annotations)."""
    counters.reset()
    runner._test_loop = dict(type=loop)
    if timers is not None:
        timers.reset()
    build = runner.build_test_loop
    built = []

    def timed_build(*args, **kwargs):
        start = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            built.append(time.perf_counter() - start)

    runner.build_test_loop = timed_build
    _sync()
    start = time.perf_counter()
    try:
        metrics = runner.test()
    finally:
        runner.build_test_loop = build
    _sync()
    seconds = time.perf_counter() - start
    return dict(
        seconds=seconds,
        build_seconds=sum(built),
        videos=counters.videos,
        frames=counters.frames,
        accuracy=metrics['fewshot/accuracy'],
        ci95=metrics['fewshot/ci95'],
        parts=timers.report(seconds) if timers is not None else None)


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
        VideoSubset(episodic, video_ids),
        batch_size=loader.batch_size * videos_per_episode,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn)
    start = time.perf_counter()
    for batch in data:
        batch = model.data_preprocessor(batch, False)
        model.encode_frames(batch['inputs'].flatten(0, 1))
    _sync()
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
    MMLogger.get_instance('mmengine', log_level='WARNING')
    rows = []
    for num_episodes in args.episodes:
        runner = build_runner(args, num_episodes)
        counters = Counters(runner)
        timers = None if args.no_breakdown else PhaseTimers(runner)
        dataset = runner.test_dataloader.dataset
        video_ids = np.unique(
            np.concatenate([
                dataset.episode_video_indices(dataset.sample_episode(i))
                for i in range(num_episodes)
            ]))
        cached = timed_test(runner, counters, 'CachedEpisodicTestLoop')
        if not args.no_breakdown:  # a second, instrumented run
            cached['parts'] = timed_test(
                runner, counters, 'CachedEpisodicTestLoop', timers)['parts']
        plain, plain_episodes = None, 0
        if not args.no_plain:
            plain_episodes = min(num_episodes, args.plain_max_episodes
                                 or num_episodes)
            if plain_episodes < num_episodes:
                runner = build_runner(args, plain_episodes)
                counters = Counters(runner)
            plain = timed_test(runner, counters, 'TestLoop')
        one_pass = one_encode_pass(runner, counters, video_ids)
        rows.append(
            dict(
                episodes=num_episodes,
                distinct_videos=len(video_ids),
                plain=plain,
                plain_episodes=plain_episodes,
                cached=cached,
                one_pass_seconds=one_pass,
                cached_over_one_pass=cached['seconds'] / one_pass,
                loop_over_one_pass=(cached['seconds'] -
                                    cached['build_seconds']) / one_pass))

    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    print(f'\nconfig: {osp.relpath(args.config, ROOT)}; '
          f'torch threads {torch.get_num_threads()}; device {device}')
    print_rows(rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(
                dict(config=osp.relpath(args.config, ROOT), device=device,
                     threads=torch.get_num_threads(), rows=rows), f,
                indent=1)
    return rows


def print_rows(rows):
    header = (f'{"episodes":>9} {"distinct":>8} | {"plain s":>9} '
              f'{"decoded":>8} {"frames":>9} {"acc %":>12} | '
              f'{"cached s":>8} {"decoded":>7} {"frames":>7} '
              f'{"acc %":>12} | {"speed-up":>8} | {"1 pass s":>8} '
              f'{"cached/1 pass":>13}')
    print(header)
    print('-' * len(header))
    for row in rows:
        num, plain, cached = row['episodes'], row['plain'], row['cached']
        one_pass = row['one_pass_seconds']
        if plain is None:
            plain_cols, speed_up, note = f'{"-":>9} {"-":>8} {"-":>9} ' \
                f'{"-":>12}', f'{"-":>8}', ''
        else:
            scale = num / row['plain_episodes']
            note = '' if scale == 1 else f' (plain: ' \
                f'{row["plain_episodes"]} ep. x{scale:.0f}, extrapolated)'
            plain_s = plain['seconds'] * scale
            plain_cols = (f'{plain_s:>9.1f} {plain["videos"] * scale:>8.0f} '
                          f'{plain["frames"] * scale:>9.0f} '
                          f'{plain["accuracy"]:>5.2f}+-{plain["ci95"]:<5.2f}')
            speed_up = f'{plain_s / cached["seconds"]:>7.1f}x'
        print(f'{num:>9} {row["distinct_videos"]:>8} | {plain_cols} | '
              f'{cached["seconds"]:>8.1f} {cached["videos"]:>7} '
              f'{cached["frames"]:>7} '
              f'{cached["accuracy"]:>5.2f}+-{cached["ci95"]:<5.2f} | '
              f'{speed_up} | {one_pass:>8.2f} '
              f'{row["cached_over_one_pass"]:>12.2f}x{note}')
    for row in rows:
        cached = row['cached']
        print(f'{row["episodes"]} episodes: building the test loop (dataset, '
              f'dataloader) took {cached["build_seconds"]:.2f} s of the '
              f'cached run; the loop itself '
              f'{cached["seconds"] - cached["build_seconds"]:.2f} s = '
              f'{row["loop_over_one_pass"]:.2f}x one encode pass')
    for row in rows:
        if not row['cached'].get('parts'):
            continue
        total = sum(row['cached']['parts'].values())
        print(f'\ncached loop, {row["episodes"]} episodes, instrumented run '
              f'(synchronised at every part): {total:.2f} s')
        for name, seconds in row['cached']['parts'].items():
            print(f'  {name:<38} {seconds:8.3f} s '
                  f'{100 * seconds / total:5.1f}%  '
                  f'{1e6 * seconds / row["episodes"]:8.1f} us/episode')


if __name__ == '__main__':
    main()
