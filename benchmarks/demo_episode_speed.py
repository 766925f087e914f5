# Copyright (c) m2df_mmaction contributors.
"""Seconds per training episode at the start and at the end of a run.

Reads the ``time`` of every logged training iteration from an MMEngine log
of the CPU demo (``bash tools/demo.sh``) and prints one line: the mean
seconds per episode over episodes 1-100 and over the last 100, and their
ratio. A ratio near 1 means the run kept its speed; the demo without
flushing subnormal floats slowed down about threefold after episode ~600
(docs/benchmarks.md, "CPU speed and subnormal floats"). A report, not a
timed test: the figures depend on the machine and its load. ::

    python benchmarks/demo_episode_speed.py \\
        work_dirs/m2df_tiny-clip-world_demo_5w1s
    python benchmarks/demo_episode_speed.py path/to/20261203_103526.log
    python benchmarks/demo_episode_speed.py --run [--config CONFIG] \\
        [--work-dir D] [-- extra tools/train.py options]

A log, a ``vis_data`` json (``scalars.json`` or ``<timestamp>.json``) or a
work directory (its newest run) are read. MMEngine logs every
``default_hooks.logger.interval`` iterations (50 in the demo) the mean time
of the last ``log_processor.window_size`` iterations (20), so a plain demo
log samples 40 of each 100 episodes; ``--run`` trains with both set to 1,
which logs every episode's own time.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = 'configs/m2df_tiny-clip-world_demo_5w1s.py'
EVERY_ITERATION = ('default_hooks.logger.interval=1',
                   'log_processor.window_size=1')
# "Iter(train) [ 100/1000]  ... time: 0.2712  data_time: 0.0061 ..."
_TEXT_ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/\s*(\d+)\](.*)')
_TEXT_FIELD = re.compile(r'\b(time|data_time): ([0-9.eE+-]+)')


def find_log(path: str) -> str:
    """The log to read: ``path`` itself, or the newest run's json scalars
    (else text log) under the work directory ``path``."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path}: no such log file or work '
                                'directory.')
    runs = sorted(glob.glob(osp.join(path, '[0-9]*_[0-9]*')))
    for run in reversed(runs):  # newest first; test runs have no train log
        name = osp.basename(run)
        for candidate in (osp.join(run, 'vis_data', f'{name}.json'),
                          osp.join(run, 'vis_data', 'scalars.json'),
                          osp.join(run, f'{name}.log')):
            if osp.isfile(candidate) and _has_train_iters(candidate):
                return candidate
    raise FileNotFoundError(
        f'{path}: no MMEngine training run (<timestamp>/vis_data/'
        '<timestamp>.json or <timestamp>/<timestamp>.log with "Iter(train)" '
        'records) in this directory.')


def _has_train_iters(path: str) -> bool:
    try:
        read_train_times(path)
    except ValueError:
        return False
    return True


def read_train_times(path: str) -> Dict[int, Dict[str, float]]:
    """``{iteration: {'time': s, 'data_time': s}}`` of the logged training
    iterations of an MMEngine json-lines scalars file or text log.

    Text logs may hold several runs (a resumed one appends): a later line
    of the same iteration replaces the earlier one.
    """
    out: Dict[int, Dict[str, float]] = {}
    with open(path, encoding='utf-8', errors='replace') as f:
        if path.endswith('.json'):
            for line in f:
                line = line.strip()
                if not line:
                    continue
                rec = json.loads(line)
                # training records have 'iter' and 'time'; val records
                # carry metrics and a 'step' only
                if 'iter' in rec and 'time' in rec:
                    out[int(rec['iter'])] = dict(
                        time=float(rec['time']),
                        data_time=float(rec.get('data_time', 'nan')))
        else:
            for line in f:
                match = _TEXT_ITER.search(line)
                if not match:
                    continue
                fields = dict(_TEXT_FIELD.findall(match.group(3)))
                if 'time' in fields:
                    out[int(match.group(1))] = dict(
                        time=float(fields['time']),
                        data_time=float(fields.get('data_time', 'nan')))
    if not out:
        raise ValueError(f'{path}: no training iterations with a "time" '
                         'field (is this an MMEngine training log?).')
    return out


def span_mean(times: Dict[int, Dict[str, float]], first: int, last: int,
              key: str = 'time') -> Optional[float]:
    """Mean ``key`` of the logged iterations in ``first..last``."""
    values = [v[key] for i, v in times.items() if first <= i <= last]
    return sum(values) / len(values) if values else None


def summary(times: Dict[int, Dict[str, float]], span: int = 100) -> dict:
    """Seconds per episode over the first and the last ``span`` episodes
    (``episodes`` counts from 1 up to the last logged iteration)."""
    end = max(times)
    head = (1, min(span, end))
    tail = (max(1, end - span + 1), end)
    out = dict(episodes=end, logged=len(times))
    for name, (a, b) in (('first', head), ('last', tail)):
        out[name] = dict(
            episodes=[a, b],
            logged=sum(a <= i <= b for i in times),
            s_per_episode=span_mean(times, a, b),
            data_s_per_episode=span_mean(times, a, b, 'data_time'))
    out['last_over_first'] = (out['last']['s_per_episode'] /
                              out['first']['s_per_episode'])
    return out


def format_line(result: dict, source: str) -> str:
    """The one benchmark line."""
    first, last = result['first'], result['last']
    return (f'demo training ({source}): '
            f'{first["s_per_episode"]:.3f} s/episode over episodes '
            f'{first["episodes"][0]}-{first["episodes"][1]}, '
            f'{last["s_per_episode"]:.3f} s/episode over episodes '
            f'{last["episodes"][0]}-{last["episodes"][1]} '
            f'(last/first {result["last_over_first"]:.2f}; data '
            f'{first["data_s_per_episode"]:.3f} / '
            f'{last["data_s_per_episode"]:.3f} s; '
            f'{first["logged"]} and {last["logged"]} logged iterations)')


def run_demo(config: str, work_dir: str, extra: Sequence[str]) -> str:
    """Train ``config`` logging every iteration; returns the work dir."""
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir
    ]
    extra = list(extra)
    if '--cfg-options' in extra:  # one --cfg-options list for both
        at = extra.index('--cfg-options') + 1
        extra[at:at] = EVERY_ITERATION
    else:
        extra += ['--cfg-options', *EVERY_ITERATION]
    print(' '.join(cmd + extra), flush=True)
    subprocess.run(cmd + extra, cwd=ROOT, check=True)
    return work_dir


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Seconds per episode over the first and the last 100 '
        'training episodes of an MMEngine log')
    parser.add_argument(
        'log', nargs='?', help='text log, vis_data json or work directory')
    parser.add_argument(
        '--run',
        action='store_true',
        help='train --config first (every iteration logged), then read it')
    parser.add_argument('--config', default=DEMO_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo_episode_speed')
    parser.add_argument('--span', type=int, default=100,
                        help='episodes at each end (default 100)')
    parser.add_argument('--json', help='also write the figures here')
    argv = list(sys.argv[1:] if argv is None else argv)
    # what follows ``--`` goes to tools/train.py untouched; split it off by
    # hand: argparse would hand its first word to the optional ``log``
    extra = argv[argv.index('--') + 1:] if '--' in argv else []
    argv = argv[:argv.index('--')] if '--' in argv else argv
    args = parser.parse_args(argv)
    args.extra = extra
    if not args.run and not args.log:
        parser.error('give a log or work directory, or --run')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    source = args.log
    if args.run:
        source = run_demo(args.config, args.work_dir, args.extra)
    path = find_log(source)
    result = summary(read_train_times(path), args.span)
    result['log'] = path
    print(format_line(result, path), flush=True)
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
