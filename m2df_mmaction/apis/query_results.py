# Copyright (c) m2df_mmaction contributors.
"""The result of one inference query: a data sample and a plain dict."""
from typing import Dict

from mmaction.structures import ActionDataSample
from torch import Tensor

__all__ = ['query_result', 'result_to_dict']


def query_result(index: int, sample: ActionDataSample,
                 episode: ActionDataSample, outputs: Dict[str, Tensor],
                 views: Dict[str, dict]) -> ActionDataSample:
    """The prediction of query ``index`` of a batch as a data sample.

    Fields: ``pred_score`` ``[N]``, ``pred_label`` ``[1]``, every head
    output of this query (``logits``, ``distance*``, ``prompt_*``, ...:
    the leading ``[B, 1]`` dims dropped) and, per alignment view of the
    head (:meth:`BaseFewShotHead.match_views`), ``view_distance_<view>``
    ``[N]`` and ``alignment_soft_<view>`` / ``alignment_path_<view>``
    ``[N, T, T]``. Metainfo: ``filename``, ``query_index``,
    ``clip_key`` (= the episode's ``episode_idx``), ``class_names``.
    """
    result = ActionDataSample()
    result.set_metainfo(
        dict(
            filename=sample.metainfo['filename'],
            query_index=sample.metainfo['query_index'],
            clip_key=sample.metainfo['clip_key'],
            class_names=episode.metainfo['class_names']))
    result.set_pred_score(episode.pred_score[0].cpu())
    result.set_pred_label(episode.pred_label[0].cpu())
    batch = outputs['logits'].shape[0]
    for key, value in outputs.items():
        if isinstance(value, Tensor) and value.dim() >= 2 and \
                tuple(value.shape[:2]) == (batch, 1):
            result.set_field(value[index, 0].detach().cpu(), key)
    for view, distance in views['distances'].items():
        result.set_field(distance[index, 0].detach().cpu(),
                         f'view_distance_{view}')
    for view, align in views['alignments'].items():
        result.set_field(align.soft[index, 0].cpu(), f'alignment_soft_{view}')
        result.set_field(align.path[index, 0].cpu(), f'alignment_path_{view}')
    return result


def result_to_dict(pred: ActionDataSample) -> dict:
    """A JSON-friendly dict of a query's data sample."""
    names = pred.metainfo['class_names']
    scores = pred.pred_score.tolist()
    label = int(pred.pred_label)
    out = dict(
        video=pred.metainfo['filename'],
        pred_class=names[label],
        pred_label=label,
        pred_score=scores[label],
        scores=dict(zip(names, scores)),
        distances={
            key[len('view_distance_'):]: pred.get(key).tolist()
            for key in pred.keys() if key.startswith('view_distance_')
        },
        alignment={},
        clip_key=pred.metainfo['clip_key'])
    for key in pred.keys():
        if key.startswith('alignment_path_'):
            view = key[len('alignment_path_'):]
            out['alignment'][view] = dict(
                path=pred.get(key).tolist(),
                soft=pred.get(f'alignment_soft_{view}').tolist())
    if 'prompt_index' in pred:
        out['prompt_class'] = names[int(pred.prompt_index)]
        out['prompt_probs'] = pred.prompt_probs.tolist()
    return out
