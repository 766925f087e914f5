# Copyright (c) m2df_mmaction contributors.
import numpy as np
import pytest
import torch
from mmaction.registry import METRICS

from m2df_mmaction.evaluation import EpisodicAccuracy


def episode(idx, pred, gt):
    return dict(
        episode_idx=idx, pred_label=torch.tensor(pred),
        gt_label=torch.tensor(gt))


def test_one_entry_per_episode_and_interval():
    metric = METRICS.build(dict(type='EpisodicAccuracy'))
    metric.process([], [
        episode(0, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]),  # 5/5
        episode(1, [0, 0, 0, 0, 0], [0, 1, 2, 3, 4]),  # 1/5
    ])
    metric.process([], [episode(2, [1, 1, 2, 3, 4], [0, 1, 2, 3, 4])])  # 4/5
    assert len(metric.results) == 3
    out = metric.evaluate(3)
    accs = np.array([1.0, 0.2, 0.8])
    assert out['fewshot/accuracy'] == pytest.approx(100 * accs.mean())
    assert out['fewshot/ci95'] == pytest.approx(
        196 * accs.std() / np.sqrt(3))
    assert out['fewshot/num_episodes'] == 3


def test_calculate_is_pure():
    assert EpisodicAccuracy.calculate([1.0, 0.0, 1.0, 0.0]) == (50.0, 49.0)
    mean, ci = EpisodicAccuracy.calculate(torch.tensor([0.5, 0.5]))
    assert mean == 50.0 and ci == 0.0
    with pytest.raises(ValueError, match='no episodes'):
        EpisodicAccuracy.calculate([])


def test_prediction_count_mismatch():
    metric = EpisodicAccuracy()
    with pytest.raises(ValueError, match='episode 4'):
        metric.process([], [episode(4, [0, 1], [0, 1, 2])])


def test_labels_as_tensors_arrays_or_lists():
    metric = EpisodicAccuracy()
    metric.process([], [
        dict(episode_idx=0, pred_label=np.array([0, 1, 1]),
             gt_label=[0, 1, 2]),
        dict(episode_idx=1, pred_label=torch.tensor([[2], [1], [0]]),
             gt_label=np.array([2, 1, 0])),
    ])
    assert [r['correct'] for r in metric.results] == [2, 3]
    assert [r['total'] for r in metric.results] == [3, 3]
