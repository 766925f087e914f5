# Copyright (c) m2df_mmaction contributors.
"""Is my run's test accuracy where it should be? ``python tools/check_result.py
WORK_DIR``.

Reads the config that ``tools/train.py`` copied into ``WORK_DIR`` (its name
and training seed) and the newest test result there (the
``<timestamp>/<timestamp>.json`` that ``tools/test.py --work-dir WORK_DIR``
writes), and compares the accuracy with the figure measured for that config
and seed in ``benchmarks/expected_results.json``. CPU kernels differ
between machines (instruction sets, thread counts, library builds) and
training amplifies rounding, so a rerun elsewhere lands within about one
point of the measured figure; the accepted range is the measured figure
± ``tolerance`` (1.5 points unless the file says otherwise).

Exit status: 0 inside the range, 1 outside, 2 when nothing can be compared
(no test result, no expected figure for the config or seed).
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
EXPECTED = osp.join(ROOT, 'benchmarks', 'expected_results.json')
DEFAULT_TOLERANCE = 1.5


def read_run(work_dir: str) -> Tuple[str, int]:
    """``(config name, training seed)`` of the run in ``work_dir``."""
    from mmengine.config import Config
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if not configs:
        raise SystemExit(f'error: {work_dir} holds no config copy (*.py): is '
                         'it the --work-dir of tools/train.py?')
    cfg = Config.fromfile(configs[0], import_custom_modules=False)
    seed = (cfg.get('randomness') or {}).get('seed', 0)
    return osp.splitext(osp.basename(configs[0]))[0], int(seed)


def read_test_result(work_dir: str) -> Optional[dict]:
    """The newest test metrics in ``work_dir`` (a json line with
    ``fewshot/accuracy`` and no training ``step``), or None."""
    found = None
    for path in sorted(glob.glob(osp.join(work_dir, '2*', '2*.json'))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                record = json.loads(line)
                if 'fewshot/accuracy' in record and 'step' not in record:
                    found = dict(record, file=path)
    return found


def check(work_dir: str, expected_file: str = EXPECTED) -> int:
    """Print the comparison; return the exit status (see the module)."""
    name, seed = read_run(work_dir)
    result = read_test_result(work_dir)
    if result is None:
        print(f'error: no test result in {work_dir}: run tools/test.py '
              f'CONFIG CKPT --work-dir {work_dir} first.')
        return 2
    with open(expected_file) as f:
        table = json.load(f)
    entry = table['configs'].get(name)
    if entry is None or str(seed) not in entry['accuracy']:
        print(f'{name} seed {seed}: accuracy {result["fewshot/accuracy"]:.2f}'
              f'; no measured figure for this config and seed in '
              f'{osp.relpath(expected_file, ROOT)} (it has: '
              f'{", ".join(sorted(table["configs"]))}).')
        return 2
    want = float(entry['accuracy'][str(seed)])
    tol = float(entry.get('tolerance', DEFAULT_TOLERANCE))
    got = float(result['fewshot/accuracy'])
    ci = result.get('fewshot/ci95')
    inside = abs(got - want) <= tol
    print(f'{name} seed {seed}: accuracy {got:.2f}'
          + (f' ± {ci:.2f}' if ci is not None else '') +
          f' ({osp.relpath(result["file"], work_dir)}); measured '
          f'{want:.2f} on {table["machine"]}; accepted {want - tol:.2f} .. '
          f'{want + tol:.2f} (CPU kernels differ between machines): '
          + ('OK, in the expected range.' if inside else
             'OUTSIDE the expected range: see docs/troubleshooting.md '
             '("My demo accuracy differs").'))
    return 0 if inside else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description="Compare a run's test accuracy with the measured one.")
    p.add_argument('work_dir', help='the --work-dir of the run')
    p.add_argument('--expected', default=EXPECTED,
                   help='the table of measured figures')
    args = p.parse_args(argv)
    if not osp.isdir(args.work_dir):
        print(f'error: {args.work_dir} is not a folder.')
        return 2
    return check(args.work_dir, args.expected)


if __name__ == '__main__':
    sys.exit(main())
