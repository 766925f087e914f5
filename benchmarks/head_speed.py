# Copyright (c) m2df_mmaction contributors.
"""Time the M2DF and CLIP-FSAR heads on random features (CPU or GPU),
next to the same heads with the official heads' cell-by-cell OTAM loop.

The shapes of ../shared/notes/official_heads.md: 5-way, 5 queries per class
in training, T = 8, D in {512, 1024}, 1 and 5 shots; forward + losses +
backward (train mode) and forward alone (eval mode, no grad, 1 query per
class); median of ``--repeats`` runs after 3 warm-ups, synchronised on
CUDA. The official heads measured 187 ms (M2DF, D=512, 1-shot, fwd+bwd) to
643 ms (D=1024, 5-shot) on 2 CPU threads.

"cell-loop OTAM" swaps the head's ``otam`` for
:class:`otam_cell_loop.CellByCellOTAM` (one soft-min per cell, as the
official code fills its matrix), everything else unchanged: on a GPU, where
that loop is launch-bound, the ratio is what our row-wise OTAM buys at the
head level (the goal: >= 3x)::

    python benchmarks/head_speed.py [--device cuda] [--threads 2] \\
        [--repeats 20] [--json heads.json]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from bench_common import (environment, markdown_table,  # noqa: E402
                          median_seconds, write_json)
from mmaction.registry import MODELS  # noqa: E402
from otam_cell_loop import CellByCellOTAM  # noqa: E402

import m2df_mmaction  # noqa: F401,E402
from m2df_mmaction.testing import episode_data_samples  # noqa: E402
from m2df_mmaction.testing import random_episode  # noqa: E402


def episode(ways, shots, queries, frames, dim, device='cpu'):
    """Random features of one episode (features requiring gradients) and
    its data sample."""
    feats = random_episode(ways, shots, queries, frames, dim, text_dims=dim,
                           num_classes=64, device=device)
    feats = feats.replace(support=feats.support.requires_grad_(True),
                          query=feats.query.requires_grad_(True))
    return feats, episode_data_samples(feats)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--heads', nargs='+',
                        default=['M2DFHead', 'CLIPFSARHead'])
    parser.add_argument('--dims', type=int, nargs='+', default=[512, 1024])
    parser.add_argument('--shots', type=int, nargs='+', default=[1, 5])
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--no-reference', action='store_true',
                        help='skip the cell-loop OTAM variant')
    parser.add_argument('--json', help='write the rows to this file')
    return parser.parse_args(argv)


def time_head(head, args, shots, dim):
    """Median train (fwd+losses+bwd) and eval (fwd) seconds."""
    feats, samples = episode(5, shots, 5, args.frames, dim, args.device)
    test_feats, test_samples = episode(5, shots, 1, args.frames, dim,
                                       args.device)

    def train_step():
        head.train()
        head.zero_grad(set_to_none=True)
        losses = head.loss(feats)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    @torch.no_grad()
    def eval_step():
        head.eval()
        head.predict(test_feats, test_samples)

    return (median_seconds(train_step, args.repeats, 3, args.device),
            median_seconds(eval_step, args.repeats, 3, args.device))


def run(args) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    for head_type in args.heads:
        for dim in args.dims:
            for shots in args.shots:
                cfg = dict(type=head_type, embed_dims=dim)
                if head_type == 'CLIPFSARHead':
                    cfg['merge_before'] = shots > 1
                head = MODELS.build(cfg).to(args.device)
                row = dict(
                    head=head_type, dim=dim, shots=shots,
                    params_m=sum(p.numel()
                                 for p in head.parameters()) / 1e6)
                row['train_s'], row['eval_s'] = time_head(
                    head, args, shots, dim)
                if not args.no_reference:
                    otam = head.otam
                    head.otam = CellByCellOTAM(otam.lbda, otam.bidirectional)
                    row['cell_loop_train_s'], row['cell_loop_eval_s'] = \
                        time_head(head, args, shots, dim)
                    head.otam = otam
                rows.append(row)
                print(format_row(row), flush=True)
    return dict(environment=environment(args.device), rows=rows)


def format_row(row):
    text = (f'{row["head"]} D={row["dim"]} {row["shots"]}-shot: train '
            f'{1e3 * row["train_s"]:.1f} ms, eval {1e3 * row["eval_s"]:.1f} '
            'ms')
    if 'cell_loop_train_s' in row:
        text += (f'; cell-loop OTAM: train '
                 f'{1e3 * row["cell_loop_train_s"]:.1f} ms '
                 f'({row["cell_loop_train_s"] / row["train_s"]:.1f}x), eval '
                 f'{1e3 * row["cell_loop_eval_s"]:.1f} ms '
                 f'({row["cell_loop_eval_s"] / row["eval_s"]:.1f}x)')
    return text


def table(result) -> str:
    header = ['head', 'D', 'shot', 'params (M)', 'train ms', 'eval ms']
    reference = 'cell_loop_train_s' in (result['rows'] or [{}])[0]
    if reference:
        header += ['cell-loop OTAM train ms', 'eval ms', 'ours faster (train)',
                   '(eval)']
    rows = []
    for r in result['rows']:
        cells = [r['head'], r['dim'], r['shots'], f'{r["params_m"]:.2f}',
                 f'{1e3 * r["train_s"]:.1f}', f'{1e3 * r["eval_s"]:.1f}']
        if reference:
            cells += [
                f'{1e3 * r["cell_loop_train_s"]:.1f}',
                f'{1e3 * r["cell_loop_eval_s"]:.1f}',
                f'{r["cell_loop_train_s"] / r["train_s"]:.1f}x',
                f'{r["cell_loop_eval_s"] / r["eval_s"]:.1f}x'
            ]
        rows.append(cells)
    return markdown_table(header, rows)


def main(argv=None):
    args = parse_args(argv)
    env = environment(args.device)
    print(f'torch {env["torch"]}, {args.threads} threads, '
          f'{env.get("gpu", "CPU")}')
    result = run(args)
    print(table(result))
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
