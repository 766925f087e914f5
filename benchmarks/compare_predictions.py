# Copyright (c) m2df_mmaction contributors.
"""Compare two dumps of the same test episodes: did a change move a
prediction?

``tools/test.py CONFIG CKPT --dump before.pkl`` on the code before a change,
``--dump after.pkl`` after it; this prints, over the episodes of both, the
largest absolute difference of ``pred_score`` and how many query
predictions (``pred_label``) differ. A report, not a test::

    python benchmarks/compare_predictions.py before.pkl after.pkl
"""
import argparse
import pickle
from typing import List

import torch


def load(path: str) -> List[dict]:
    with open(path, 'rb') as f:
        return pickle.load(f)


def compare(before: List[dict], after: List[dict]) -> dict:
    """``episodes``, ``queries``, ``max_abs_score_diff`` and
    ``changed_predictions`` of two dumps of the same episodes."""
    if len(before) != len(after):
        raise ValueError(f'The dumps hold {len(before)} and {len(after)} '
                         'episodes: not the same test run.')
    max_diff, changed, queries = 0.0, 0, 0
    for index, (a, b) in enumerate(zip(before, after)):
        if a.get('episode_idx') != b.get('episode_idx'):
            raise ValueError(f'Entry {index}: episode {a.get("episode_idx")}'
                             f' vs {b.get("episode_idx")}.')
        score_a = torch.as_tensor(a['pred_score']).float()
        score_b = torch.as_tensor(b['pred_score']).float()
        max_diff = max(max_diff, (score_a - score_b).abs().max().item())
        label_a = torch.as_tensor(a['pred_label']).view(-1)
        label_b = torch.as_tensor(b['pred_label']).view(-1)
        changed += int((label_a != label_b).sum())
        queries += label_a.numel()
    return dict(
        episodes=len(before),
        queries=queries,
        max_abs_score_diff=max_diff,
        changed_predictions=changed)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('before')
    parser.add_argument('after')
    args = parser.parse_args(argv)
    result = compare(load(args.before), load(args.after))
    print(f'{result["episodes"]} episodes, {result["queries"]} queries: '
          f'max |pred_score difference| {result["max_abs_score_diff"]:.3g}, '
          f'{result["changed_predictions"]} changed predictions')
    return result


if __name__ == '__main__':
    main()
