# Copyright (c) m2df_mmaction contributors.
"""Time the OTAM distance against its cell-by-cell reference.

Prints the median of 20 runs after 3 warm-up runs, on 2 CPU threads, for
``[25, 5, 8, 8]`` bidirectional distances (25 queries x 5 prototypes), both
without gradients and forward + backward.

Usage::

    python benchmarks/otam_speed.py [--shape 25 5 8 8] [--threads 2]
"""
import argparse
import statistics
import time
from typing import Callable

import torch

from m2df_mmaction.models.layers.otam import (otam_distance,
                                              otam_distance_reference)


def median_ms(fn: Callable[[], None],
              repeats: int = 20,
              warmup: int = 3) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shape', type=int, nargs='+', default=[25, 5, 8, 8])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--lbda', type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dists = torch.rand(*args.shape) * 2

    print(f'OTAM bidirectional, dists {list(dists.shape)}, '
          f'{args.threads} threads, median of 20 (ms)')
    for name, fn in [('ours (row-wise logcumsumexp)', otam_distance),
                     ('cell-by-cell reference', otam_distance_reference)]:

        def no_grad() -> None:
            with torch.no_grad():
                fn(dists, args.lbda, True)

        def fwd_bwd() -> None:
            d = dists.clone().requires_grad_(True)
            fn(d, args.lbda, True).sum().backward()

        print(f'{name:30s} no_grad {median_ms(no_grad):8.3f}   '
              f'fwd+bwd {median_ms(fwd_bwd):8.3f}')


if __name__ == '__main__':
    main()
