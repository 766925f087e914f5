# Copyright (c) m2df_mmaction contributors.
"""Training loss and validation accuracy curves from MMEngine's logs.

``python tools/analysis/plot_curves.py WORK_DIR_or_JSON [more ...]
--out curves.png``

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (the newest run of a
work directory, or the JSON file given): training lines carry ``iter`` and
``loss`` (and the ``loss_*`` terms), validation lines ``step`` and the
metric (``fewshot/accuracy``, with ``fewshot/ci95`` drawn as a band; or
``acc/top1`` of a supervised config). Several runs share the axes.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use('Agg')

import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

METRICS = ('fewshot/accuracy', 'acc/top1')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot loss and validation accuracy curves')
    parser.add_argument(
        'logs', nargs='+', help='work directories or scalars.json files')
    parser.add_argument('--labels', nargs='+', help='a name per log')
    parser.add_argument('--out', required=True, help='output PNG file')
    return parser.parse_args(argv)


def find_scalars(path: str) -> str:
    """The newest ``vis_data/scalars.json`` of a work dir, or ``path``."""
    if osp.isfile(path):
        return path
    found = sorted(
        glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json in {path}')
    return found[-1]


def read_scalars(path: str) -> Tuple[Dict[str, List], Dict[str, List]]:
    """Split a scalars.json into training and validation series.

    Returns:
        tuple: ``train`` ``{key: [(iter, value), ...]}`` for ``loss*`` keys
        and ``val`` ``{key: [(iter, value), ...]}`` for the metrics, both
        over the global training iteration.
    """
    train, val = {}, {}
    last_iter = None
    with open(path) as f:
        for line in f:
            entry = json.loads(line)
            if 'loss' in entry:
                last_iter = entry.get('step', entry.get('iter'))
                for key, value in entry.items():
                    if key.startswith('loss'):
                        train.setdefault(key, []).append((last_iter, value))
            elif any(key in entry for key in METRICS):
                # A validation line's `step` is the epoch unless the logger
                # hook has log_metric_by_epoch=False (0 for every point of
                # an IterBasedTrainLoop): place it at the last training
                # iteration logged before it instead.
                step = last_iter if last_iter is not None else entry['step']
                for key in (*METRICS, 'fewshot/ci95'):
                    if key in entry:
                        val.setdefault(key, []).append((step, entry[key]))
    return train, val


def plot(runs, out: str) -> None:
    """Loss (left) and validation metric (right) of every run."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.6))
    colors = plt.get_cmap('tab10')
    for i, (label, (train, val)) in enumerate(runs):
        color = colors(i)
        terms = sorted(k for k in train if k != 'loss')
        keys = ['loss'] + (terms if len(terms) > 1 else [])
        for key in keys:
            series = train.get(key)
            if not series:
                continue
            steps, values = np.array(series, dtype=float).T
            ax_loss.plot(steps, values, color=color,
                         lw=1.6 if key == 'loss' else 0.9,
                         ls='-' if key == 'loss' else '--',
                         label=f'{label}: {key}')
        for metric in METRICS:
            if metric not in val:
                continue
            steps, values = np.array(val[metric], dtype=float).T
            ax_acc.plot(steps, values, 'o-', color=color,
                        label=f'{label}: {metric}')
            if metric == 'fewshot/accuracy' and 'fewshot/ci95' in val:
                ci = np.array(val['fewshot/ci95'], dtype=float)[:, 1]
                ax_acc.fill_between(steps, values - ci, values + ci,
                                    color=color, alpha=0.2)
    ax_loss.set_xlabel('iteration')
    ax_loss.set_ylabel('training loss')
    ax_loss.legend(fontsize=7)
    ax_acc.set_xlabel('iteration')
    ax_acc.set_ylabel('validation accuracy (%)')
    if ax_acc.lines:
        ax_acc.legend(fontsize=7)
    else:
        ax_acc.text(0.5, 0.5, 'no validation yet', ha='center',
                    transform=ax_acc.transAxes)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    labels = args.labels or [
        osp.basename(osp.normpath(p)) if osp.isdir(p) else
        osp.splitext(osp.basename(p))[0] for p in args.logs
    ]
    if len(labels) != len(args.logs):
        raise ValueError('give one --labels entry per log')
    runs = [(label, read_scalars(find_scalars(path)))
            for label, path in zip(labels, args.logs)]
    plot(runs, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
