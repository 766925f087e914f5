# Copyright (c) m2df_mmaction contributors.
"""Per-class test accuracy of one or two models, as a bar chart.

``python tools/analysis/per_class_accuracy.py CONFIG CKPT [--ckpt2 CKPT2
[--config2 C2]] --out per_class.png [--episodes 500]``

or, from the pickles of ``tools/test.py --dump``:

``python tools/analysis/per_class_accuracy.py --dump a.pkl [b.pkl]
--out per_class.png``

A class's accuracy is the share of its query videos predicted right, over
all test episodes that contain it. With two models the classes are sorted
by the difference (second minus first), as the CLIP-M2DF paper compares
with CLIP-FSAR; with one, by accuracy.
"""
import argparse
import os.path as osp
import pickle
import sys
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import numpy as np  # noqa: E402
from _common import load_config, model_label, test_results  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

# class name -> (correct, total)
Counts = Dict[str, Tuple[int, int]]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-class accuracy of one or two models')
    parser.add_argument('config', nargs='?', help='config of the checkpoint')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--ckpt2', help='a second checkpoint to compare')
    parser.add_argument(
        '--config2', help='config of --ckpt2 (defaults to CONFIG)')
    parser.add_argument(
        '--dump', nargs='+', metavar='PKL',
        help='one or two `tools/test.py --dump` pickles instead of models')
    parser.add_argument('--label', help='name of the first model')
    parser.add_argument('--label2', help='name of the second model')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--episodes', type=int, default=None,
        help='test episodes (defaults to the config\'s)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides, as in tools/test.py')
    args = parser.parse_args(argv)
    if args.dump is None and (args.config is None
                              or args.checkpoint is None):
        parser.error('give CONFIG and CKPT, or --dump PKL [PKL2]')
    if args.dump is not None and len(args.dump) > 2:
        parser.error('--dump takes one or two pickles')
    return args


def count(episodes: Iterable[Tuple[List[int], List[int], List[str]]]
          ) -> Counts:
    """Correct and total queries per class.

    Args:
        episodes: ``(pred_labels, gt_labels, class_names)`` per episode,
            labels relative to the episode's ``class_names``.

    Returns:
        dict: ``{class_name: (correct, total)}``.

    Example:
        >>> count([([0, 1], [0, 0], ['a', 'b'])])
        {'a': (1, 2)}
    """
    correct, total = defaultdict(int), defaultdict(int)
    for preds, gts, names in episodes:
        for pred, gt in zip(preds, gts):
            total[names[gt]] += 1
            correct[names[gt]] += int(pred == gt)
    return {name: (correct[name], total[name]) for name in total}


def _names(meta: dict) -> List[str]:
    names = meta.get('class_names')
    return list(names) if names else [str(c) for c in meta['class_ids']]


def counts_from_results(results: List[dict]) -> Counts:
    """Per-class counts from per-episode results as ``tools/test.py
    --dump`` writes them."""
    return count((np.asarray(res['pred_label']).tolist(),
                  np.asarray(res['gt_label']).tolist(),
                  _names(res.get('metainfo', res))) for res in results)


def counts_from_dump(path: str) -> Counts:
    """Per-class counts from a ``tools/test.py --dump`` pickle."""
    with open(path, 'rb') as f:
        return counts_from_results(pickle.load(f))


def counts_from_model(config: str,
                      checkpoint: str,
                      episodes: Optional[int] = None,
                      cfg_options: Optional[dict] = None) -> Counts:
    """Per-class counts of a checkpoint on the config's test episodes, from
    what ``tools/test.py --dump`` would write."""
    return counts_from_results(
        test_results(load_config(config, cfg_options), checkpoint, episodes))


def plot(runs: List[Tuple[str, Counts]], out: str) -> None:
    """Bars per class, sorted by the difference of two runs (or by one)."""
    names = sorted(set().union(*(c.keys() for _, c in runs)))
    accs = np.array([[100.0 * c[n][0] / c[n][1] if n in c else np.nan
                      for n in names] for _, c in runs])
    key = accs[-1] - accs[0] if len(runs) == 2 else accs[0]
    order = np.argsort(-np.nan_to_num(key, nan=-1e9), kind='stable')
    fig, ax = plt.subplots(figsize=(max(6.0, 0.42 * len(names) + 2), 4.6))
    width = 0.8 / len(runs)
    x = np.arange(len(names))
    colors = ('tab:gray', 'tab:blue')[-len(runs):]
    for i, (label, counts) in enumerate(runs):
        mean = 100.0 * sum(c for c, _ in counts.values()) / max(
            1, sum(t for _, t in counts.values()))
        ax.bar(x + (i - (len(runs) - 1) / 2) * width, accs[i][order],
               width, color=colors[i], label=f'{label} (mean {mean:.1f}%)')
    if len(runs) == 2:
        for xi, d in zip(x, key[order]):
            ax.annotate(f'{d:+.0f}', (xi, np.nanmax(accs[:, order][:, xi])),
                        xytext=(0, 2), textcoords='offset points',
                        ha='center', fontsize=6)
        ax.set_title('Per-class accuracy, sorted by the difference '
                     f'({runs[1][0]} - {runs[0][0]})', fontsize=9)
    else:
        ax.set_title('Per-class accuracy', fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels([names[i] for i in order], rotation=60, ha='right',
                       fontsize=7)
    ax.set_ylabel('accuracy (%)')
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7, loc='upper right')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    labels = [args.label, args.label2]
    runs = []
    if args.dump is not None:
        for i, path in enumerate(args.dump):
            label = labels[i] or osp.splitext(osp.basename(path))[0]
            runs.append((label, counts_from_dump(path)))
    else:
        runs.append((model_label(args.config, args.label),
                     counts_from_model(args.config, args.checkpoint,
                                       args.episodes, args.cfg_options)))
        if args.ckpt2:
            config2 = args.config2 or args.config
            runs.append((model_label(config2, args.label2),
                         counts_from_model(config2, args.ckpt2,
                                           args.episodes, args.cfg_options)))
    plot(runs, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
