# Copyright (c) m2df_mmaction contributors.
"""Mean episode accuracy with the field's 95% confidence interval."""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

__all__ = ['EpisodicAccuracy']


def _flat_numpy(labels) -> np.ndarray:
    """Labels (a tensor on any device, an array or a list) as a flat array.

    NumPy rather than torch ops: on a few labels each torch op costs
    microseconds, which a cached test loop pays for every episode.
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    return np.asarray(labels).reshape(-1)


@METRICS.register_module()
class EpisodicAccuracy(BaseMetric):
    """Few-shot accuracy: the mean over episodes and its 95% interval.

    Each episode contributes one entry (the fraction of its queries that are
    right), so MMEngine's truncation of results to ``len(dataset)`` under
    distributed evaluation keeps exactly one entry per episode. The
    interval is ``1.96 * std / sqrt(n)`` over the episode accuracies
    (population ``std``, as the TRX / CLIP-M2DF evaluation code computes
    it), both reported in percent.

    Args:
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'fewshot'``, giving ``fewshot/accuracy`` and ``fewshot/ci95``.
    """
    default_prefix: Optional[str] = 'fewshot'

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        """Store one entry per episode.

        Args:
            data_batch (Sequence[dict]): Unused.
            data_samples (Sequence[dict]): Episode samples as dicts, each
                with ``pred_label`` and ``gt_label`` of shape ``[N*Q]`` and
                ``episode_idx``.
        """
        for sample in data_samples:
            pred = _flat_numpy(sample['pred_label'])
            gt = _flat_numpy(sample['gt_label'])
            if pred.shape != gt.shape:
                raise ValueError(
                    f'episode {sample.get("episode_idx")}: {pred.size} '
                    f'predictions for {gt.size} queries.')
            self.results.append(
                dict(
                    episode_idx=int(sample.get('episode_idx', -1)),
                    correct=int(np.count_nonzero(pred == gt)),
                    total=int(gt.size)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the metrics from the per-episode entries.

        Args:
            results (list[dict]): Entries from :meth:`process`.

        Returns:
            dict: ``accuracy`` and ``ci95`` in percent, ``num_episodes``.
        """
        accuracies = [r['correct'] / r['total'] for r in results]
        mean, ci95 = self.calculate(accuracies)
        return dict(accuracy=mean, ci95=ci95, num_episodes=len(results))

    @staticmethod
    def calculate(
        accuracies: Union[Sequence[float], np.ndarray, torch.Tensor]
    ) -> tuple:
        """Mean and 95% interval of episode accuracies, in percent.

        Args:
            accuracies (Sequence[float] | np.ndarray | torch.Tensor): One
                accuracy in [0, 1] per episode.

        Returns:
            tuple[float, float]: ``(100 * mean, 196 * std / sqrt(n))``.

        Example:
            >>> EpisodicAccuracy.calculate([1.0, 0.0, 1.0, 0.0])
            (50.0, 49.0)
            >>> EpisodicAccuracy.calculate([0.6, 0.6, 0.6])
            (60.0, 0.0)
        """
        values = np.asarray(
            accuracies.cpu() if isinstance(accuracies, torch.Tensor) else
            accuracies,
            dtype=np.float64).reshape(-1)
        if values.size == 0:
            raise ValueError('EpisodicAccuracy: no episodes were evaluated.')
        mean = float(values.mean() * 100)
        ci95 = float(196 * values.std() / np.sqrt(values.size))
        return mean, ci95
