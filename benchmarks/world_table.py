# Copyright (c) m2df_mmaction contributors.
"""The synthetic-benchmark table with the pretrained tiny CLIP (README,
"Results on the synthetic benchmark"; docs/tiny_clip.md).

Every row has the budget of ``configs/_base_/schedules/demo_cpu.py``; each
run trains, picks its best validation checkpoint and tests it on the novel
classes (the same 2,000 test episodes for every run). Runs:

- ProtoNet, OTAM, CLIP-FSAR, CLIP-M2DF, TRX, HyRSM, HyRSM++ and MoLo
  (``configs/*_tiny-clip-world_demo_5w1s.py``)
  with training seeds 0, 1 and 2;
- the four M2DF ablations
  (``configs/ablations/m2df_tiny-clip-world_demo_5w1s_*.py``), seed 0;
- ``--random``: the same with the randomly initialised tiny CLIP
  (``configs/*_demo_5w1s.py``), for the side-by-side.

About 4-5 minutes per run on 2 quiet CPU cores (28 runs: ~2.5 hours;
``--only`` picks rows). A run whose ``test.json`` exists is not rerun, so
an interrupted table resumes.
Then the zero-shot and prompt-selector figures of ``text_probe.py``. ::

    python benchmarks/world_table.py [--work-root work_dirs/world_table]
    python benchmarks/world_table.py --only m2df_tiny-clip-world_demo_5w1s \
        --seeds 0
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = ('protonet', 'otam', 'clip_fsar', 'm2df', 'trx', 'hyrsm', 'hyrsmpp',
          'molo', 'd2st', 'tsfsar')
ABLATIONS = ('no-pps', 'local-only', 'global-only', 'no-distill')
TITLES = dict(protonet='ProtoNet', otam='OTAM', clip_fsar='CLIP-FSAR',
              m2df='CLIP-M2DF', trx='TRX', hyrsm='HyRSM', hyrsmpp='HyRSM++',
              molo='MoLo', d2st='D2ST-Adapter', tsfsar='TS-FSAR')


def runs(weights: str, seeds: List[int]) -> List[Tuple[str, str, int]]:
    """``(name, config, seed)`` of every run of the table; ``weights`` is
    the config-name part: ``'tiny-clip-world_demo'`` or ``'demo'``."""
    # first seed of everything, then the other seeds: a table cut short
    # still has every row
    out = []
    for i, s in enumerate(seeds):
        for m in MODELS:
            name = f'{m}_{weights}_5w1s'
            out.append((name, f'configs/{name}.py', s))
        if i == 0:
            for a in ABLATIONS:
                name = f'm2df_{weights}_5w1s_{a}'
                out.append((name, f'configs/ablations/{name}.py', s))
    return out


def run_one(config: str, seed: int, work: str) -> Dict:
    """Train, test the best validation checkpoint; returns ``test.json``."""
    result = osp.join(work, 'test.json')
    if osp.isfile(result):
        with open(result) as f:
            return json.load(f)
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    start = time.time()
    with open(osp.join(work, 'train.log'), 'w') as log:
        subprocess.run([sys.executable, 'tools/train.py', config,
                        '--work-dir', work, '--seed', str(seed)],
                       cwd=ROOT, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)
    best = sorted(
        glob.glob(osp.join(work, 'best_fewshot_accuracy_iter_*.pth')))
    if len(best) != 1:
        raise RuntimeError(f'{work}: expected one best checkpoint, got {best}')
    test = subprocess.run([sys.executable, 'tools/test.py', config, best[0],
                           '--work-dir', work], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    found = re.findall(r'fewshot/accuracy: ([\d.]+)\s+fewshot/ci95: ([\d.]+)',
                       test.stdout + test.stderr)
    if not found:
        raise RuntimeError(f'{work}: no accuracy in the test output')
    val = []
    for path in glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            val += [json.loads(line).get('fewshot/accuracy') for line in f]
    out = dict(config=config, seed=seed, accuracy=float(found[-1][0]),
               ci95=float(found[-1][1]),
               best_val=max(v for v in val if v is not None),
               best_iter=int(re.search(r'iter_(\d+)', best[0]).group(1)),
               wall_s=round(time.time() - start))
    with open(result, 'w') as f:
        json.dump(out, f, indent=1)
    return out


def table(results: Dict[str, List[Dict]]) -> str:
    lines = ['| model | seeds | novel-class 5w1s accuracy (%) | per seed | '
             'episode 95% interval | best val (%) | wall per run (s) |',
             '|---|---|---|---|---|---|---|']
    for name, rows in results.items():
        acc = np.array([r['accuracy'] for r in rows])
        spread = f' ± {acc.std(ddof=1):.2f} (sd)' if len(acc) > 1 else ''
        lines.append(
            f'| `{name}` | {",".join(str(r["seed"]) for r in rows)} | '
            f'{acc.mean():.2f}{spread} | '
            f'{" / ".join(f"{a:.2f}" for a in acc)} | '
            f'± {np.mean([r["ci95"] for r in rows]):.2f} | '
            f'{np.mean([r["best_val"] for r in rows]):.1f} | '
            f'{np.mean([r["wall_s"] for r in rows]):.0f} |')
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-root', default='work_dirs/world_table')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--random', action='store_true',
                   help='the randomly initialised tiny CLIP instead')
    p.add_argument('--only', nargs='+', help='config names to run')
    p.add_argument('--no-probe', action='store_true',
                   help='skip the text probe')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    weights = 'demo' if args.random else 'tiny-clip-world_demo'
    subprocess.run([sys.executable, 'tools/data/make_synthetic.py', '--out',
                    'data/synthetic'], cwd=ROOT, check=True)
    results: Dict[str, List[Dict]] = {}
    for name, config, seed in runs(weights, args.seeds):
        if args.only and name not in args.only:
            continue
        work = osp.join(ROOT, args.work_root, f'{name}_seed{seed}')
        r = run_one(config, seed, work)
        print(f'{name} seed {seed}: {r["accuracy"]:.2f} ± {r["ci95"]:.2f} '
              f'({r["wall_s"]} s)', flush=True)
        results.setdefault(name, []).append(r)
    print(table(results))
    if not args.no_probe:
        subprocess.run([sys.executable, 'benchmarks/text_probe.py'],
                       cwd=ROOT, check=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
