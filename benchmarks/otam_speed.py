# Copyright (c) m2df_mmaction contributors.
"""Time the OTAM distance against cell-by-cell loops (CPU or GPU).

Median of ``--repeats`` runs after 3 warm-ups (synchronised on CUDA) of the
bidirectional distance of ``--shape`` (default ``[25, 5, 8, 8]``: 25
queries x 5 prototypes, one training episode), without gradients and
forward + backward, for: ours (row-wise ``logcumsumexp``), the float32
cell-by-cell loop of ``otam_cell_loop.py`` (the official heads' cost
structure) and the float64 test reference ``otam_distance_reference``.

Usage::

    python benchmarks/otam_speed.py [--shape 25 5 8 8] [--device cuda] \\
        [--threads 2] [--json otam.json]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from bench_common import (environment, markdown_table,  # noqa: E402
                          median_seconds, write_json)
from otam_cell_loop import otam_cell_by_cell  # noqa: E402

from m2df_mmaction.models.layers import otam  # noqa: E402

IMPLEMENTATIONS = {
    'ours (row-wise logcumsumexp)': otam.otam_distance,
    'cell-by-cell, float32': otam_cell_by_cell,
    'cell-by-cell reference, float64': otam.otam_distance_reference,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shape', type=int, nargs='+', default=[25, 5, 8, 8])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--lbda', type=float, default=0.5)
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', help='write the rows to this file')
    return parser.parse_args(argv)


def run(args) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dists = torch.rand(*args.shape, device=args.device) * 2
    rows = []
    for name, fn in IMPLEMENTATIONS.items():

        def no_grad(fn=fn) -> None:
            with torch.no_grad():
                fn(dists, args.lbda, True)

        def fwd_bwd(fn=fn) -> None:
            d = dists.clone().requires_grad_(True)
            fn(d, args.lbda, True).sum().backward()

        rows.append(
            dict(
                implementation=name,
                shape=list(args.shape),
                no_grad_ms=1e3 * median_seconds(no_grad, args.repeats, 3,
                                                args.device),
                fwd_bwd_ms=1e3 * median_seconds(fwd_bwd, args.repeats, 3,
                                                args.device)))
    return dict(environment=environment(args.device), rows=rows)


def table(result) -> str:
    ours = result['rows'][0]
    return markdown_table(
        ['OTAM', 'no grad ms', 'fwd+bwd ms', 'fwd+bwd vs ours'],
        [[
            r['implementation'], f'{r["no_grad_ms"]:.3f}',
            f'{r["fwd_bwd_ms"]:.3f}',
            f'{r["fwd_bwd_ms"] / ours["fwd_bwd_ms"]:.1f}x'
        ] for r in result['rows']])


def main(argv=None) -> dict:
    args = parse_args(argv)
    result = run(args)
    env = result['environment']
    print(f'OTAM bidirectional, dists {args.shape}, {env.get("gpu", "CPU")}, '
          f'{args.threads} threads, median of {args.repeats}')
    print(table(result))
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
