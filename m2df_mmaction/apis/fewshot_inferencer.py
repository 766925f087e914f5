# Copyright (c) m2df_mmaction contributors.
"""Recognise clips of new classes from a few labelled examples."""
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from torch import Tensor

from m2df_mmaction.models.recognizers import FewShotRecognizer
from m2df_mmaction.utils import check_device, flush_denormal_for_device
from .clip_loader import ClipLoader, clip_key, find_test_pipeline
from .model_init import init_fewshot_recognizer, load_fewshot_config
from .query_episode import build_query_episode
from .query_results import query_result, result_to_dict
from .support_set import FittedSupport, SupportLike, SupportSet, list_clips

__all__ = ['FewShotInferencer', 'FittedSupport']

ModelLike = Union[str, Path, Config, nn.Module]


class FewShotInferencer(BaseInferencer):
    """Few-shot recognition of video clips: fit a support set, then predict.

    ``fit`` takes a few labelled clips of each new class (a
    :class:`SupportSet`, ``{class name: [clip paths]}`` or a folder with one
    sub-folder per class), decodes them with the config's test pipeline and
    encodes each clip once. Calling the inferencer on query clips then
    classifies them among the support classes, in batches::

        inferencer = FewShotInferencer('configs/m2df_demo_5w1s.py', CKPT,
                                       device='cpu')
        inferencer.fit('my_support/')       # my_support/<class>/<clip>.mp4
        preds = inferencer.predict(['a.mp4', 'b.mp4'], batch_size=8)
        preds[0]['pred_class'], preds[0]['scores']

    Each query is its own episode: the support set plus that one query,
    with ``episode_idx`` the 63-bit BLAKE2b key of the query's decoded
    frames (:func:`clip_key`). The heads score every query independently of
    the others, and M2DF's test-time prompt draw is keyed by
    ``(test_seed, episode_idx, 0)`` (``keyed_uniforms``), so a query's
    result is a function of the model, the support set and the clip alone:
    the same for any batch size, position among the queries, call or device
    (up to float rounding of batched matrix products).

    The episode goes to the head as in the recognizer's prediction path
    (:meth:`FewShotRecognizer.predict_from_features`): the
    :class:`Episode` from :meth:`FewShotRecognizer.episode_from_parts`
    (what ``build_episode`` calls after splitting; here the cached
    supports and the query are already apart), the head's forward and
    :meth:`predict_by_feat`.

    Results per query (:meth:`predict`, or ``predictions`` of
    :meth:`__call__`): ``pred_class``, ``pred_label``, ``pred_score``,
    ``scores`` (``{class: probability}``), ``distances`` per view
    (``{'local': [N], 'global': [N]}`` for M2DF, ``{'otam': [N]}`` for OTAM
    and CLIP-FSAR) and ``alignment`` per view: the hard path (``path``
    ``[N][T][T]``, query frames by class-prototype frames) and the soft
    alignment (``soft``) to each class prototype, as the head's alignment
    layer explains its matches (:meth:`BaseFewShotHead.explain`; for OTAM
    :func:`otam_alignment`). A head without alignment views (ProtoNet) has
    neither.

    Where MMEngine's :class:`BaseInferencer` conventions do not fit:

    - it is stateful: :meth:`fit` must come before the queries;
    - :meth:`preprocess` checks every query clip before the first batch
      (missing, empty, unreadable or too short clips fail at once, named),
      and :meth:`forward` does not call ``model.test_step``, which would
      re-encode the supports for every batch;
    - the progress bar is MMEngine's :class:`ProgressBar` over queries (not
      ``rich``'s over batches), shown when there is more than one batch;
    - pictures are matplotlib figures (:func:`draw_query_alignment`), not a
      ``Visualizer``: a frame strip with lines and a bar chart is not an
      image overlay.

    Args:
        model (str | Path | Config | FewShotRecognizer): A config (file or
            object) whose model is a :class:`FewShotRecognizer`, or such a
            model already built (e.g. by :func:`init_fewshot_recognizer`,
            which sets its ``cfg``).
        weights (str, optional): Checkpoint, when ``model`` is a config.
        device (str, optional): Device. None: the built model's device, or
            MMEngine's :func:`get_device`.
        scope (str): Registry scope. Defaults to ``'mmaction'``.
        show_progress (bool): Show a progress bar when there is more than
            one batch of queries. Defaults to True.
        cfg_options (dict, optional): Config overrides.
    """
    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'out_dir'}
    postprocess_kwargs: set = set()

    def __init__(self,
                 model: ModelLike,
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: str = 'mmaction',
                 show_progress: bool = True,
                 cfg_options: Optional[dict] = None) -> None:
        check_device(device)
        init_default_scope(scope)
        self._built_model = None
        if isinstance(model, nn.Module):
            if not isinstance(model, FewShotRecognizer):
                raise TypeError(f'{type(model).__name__} is not a '
                                'FewShotRecognizer.')
            if weights is not None or cfg_options:
                raise ValueError('Give weights and cfg_options with a '
                                 'config, not with a built model.')
            if getattr(model, 'cfg', None) is None:
                raise ValueError('The model has no `cfg` (its test pipeline '
                                 'is needed): build it with '
                                 'init_fewshot_recognizer.')
            self._built_model = model
            if device is None:
                device = str(next(model.parameters()).device)
            model = model.cfg
        else:
            model = load_fewshot_config(model, cfg_options)
        self.support: Optional[FittedSupport] = None
        super().__init__(
            model=model,
            weights=weights,
            device=device,
            scope=scope,
            show_progress=show_progress)

    # ------------------------------------------------------------------
    # BaseInferencer hooks
    # ------------------------------------------------------------------
    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str) -> nn.Module:
        """The built model, or :func:`init_fewshot_recognizer`."""
        if self._built_model is not None:
            model = self._built_model.to(device).eval()
            self._built_model = None
            flush_denormal_for_device(cfg, device)  # as the model's init
            return model
        return init_fewshot_recognizer(cfg, weights, device)

    def _init_pipeline(self, cfg: Config) -> ClipLoader:
        """The config's test pipeline (:func:`find_test_pipeline`)."""
        return ClipLoader(find_test_pipeline(cfg))

    def _init_visualizer(self, cfg: Config) -> None:
        """No MMEngine ``Visualizer``: the pictures are matplotlib figures."""
        return None

    def _inputs_to_list(self, inputs: Union[str, Sequence[str]]) -> list:
        """Clip paths; a folder stands for its video files
        (:func:`list_clips`)."""
        return list_clips(inputs)

    @property
    def device(self) -> torch.device:
        """torch.device: The model's device."""
        return next(self.model.parameters()).device

    # ------------------------------------------------------------------
    # support set
    # ------------------------------------------------------------------
    def fit(self, support: SupportLike, batch_size: int = 8) -> FittedSupport:
        """Decode and encode the support clips, once.

        Every clip is checked first (:meth:`ClipLoader.check`), then all are
        decoded, then encoded ``batch_size`` clips at a time, so a bad clip
        fails before any encoding.

        Args:
            support (SupportSet | dict | str): The labelled examples.
            batch_size (int): Clips per encoder forward. Defaults to 8.

        Returns:
            FittedSupport: Also kept as :attr:`support`.
        """
        support = SupportSet.build(support)
        clips = [(path, f'support clip of class {name!r}')
                 for path, name in support.clip_list()]
        self.pipeline.check(clips, 'support clips')
        loaded = [self.pipeline.load(path, owner) for path, owner in clips]
        episode = build_query_episode(support.class_names, support.num_shots,
                                      0)
        with torch.no_grad():
            self.model.encode_text([episode])  # fail now if text is needed
            chunks = [
                self._encode(self.collate_fn(loaded[i:i + batch_size]))
                for i in range(0, len(loaded), batch_size)
            ]
        feats = {k: torch.cat([c[k] for c in chunks]) for k in chunks[0]}
        frames = feats.pop('frames')
        self.support = FittedSupport(support, frames, feats)
        return self.support

    def _encode(self, batch: dict) -> Dict[str, Tensor]:
        """Features of a collated batch of clips, as the head needs them:
        ``frames`` ``[B, T, D]`` and the richer kinds it declares
        (:meth:`FewShotRecognizer.encode_videos`, each clip as an episode
        of one video)."""
        data = self.model.data_preprocessor(batch, False)
        frames = data['inputs']
        if frames.dim() != 5:
            raise ValueError(
                'The test pipeline must give [T, C, H, W] frames per clip '
                "(FormatShape('NCHW')), got a batch of shape "
                f'{tuple(frames.shape)}.')
        feats = self.model.encode_videos(frames.unsqueeze(1))
        return {kind: value.squeeze(1) for kind, value in feats.items()}

    # ------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------
    def preprocess(self, inputs: List[str], batch_size: int = 8,
                   **kwargs) -> Iterator[dict]:
        """Check every query clip, then yield decoded batches.

        Args:
            inputs (list[str]): Query clip paths.
            batch_size (int): Queries per batch. Defaults to 8.

        Yields:
            dict: ``inputs`` (list of ``[T, C, H, W]``) and ``data_samples``
            (with metainfo ``filename``, ``query_index`` and ``clip_key``).
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        clips = [(path, f'query {i}') for i, path in enumerate(inputs)]
        self.pipeline.check(clips, 'query clips')
        for start in range(0, len(clips), batch_size):
            items = []
            for index in range(start, min(start + batch_size, len(clips))):
                path, owner = clips[index]
                item = self.pipeline.load(path, owner)
                item['data_samples'].set_metainfo(
                    dict(
                        filename=path,
                        query_index=index,
                        clip_key=clip_key(item['inputs'])))
                items.append(item)
            yield self.collate_fn(items)

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> List[ActionDataSample]:
        """Classify one batch of queries, each in its own episode.

        Args:
            inputs (dict): A batch from :meth:`preprocess`.

        Returns:
            list[ActionDataSample]: One per query; see :meth:`_query_result`.
        """
        support = self._fitted()
        query = self._encode(inputs)  # frames [B, T, D], richer kinds
        if query['frames'].shape[1:] != support.feats.shape[1:]:
            raise ValueError(
                f'Query features {tuple(query["frames"].shape[1:])} do not '
                'match the support features '
                f'{tuple(support.feats.shape[1:])}.')
        names = support.support_set.class_names
        episodes = [
            build_query_episode(names, support.support_set.num_shots,
                                s.metainfo['clip_key'])
            for s in inputs['data_samples']
        ]
        batch = query['frames'].shape[0]
        head = self.model.cls_head
        supports = dict(support.extra, frames=support.feats)
        outputs = head(
            self.model.episode_from_parts(
                {k: v.unsqueeze(0).expand(batch, *v.shape)
                 for k, v in supports.items()},
                {k: v.unsqueeze(1) for k, v in query.items()}, episodes))
        episodes = head.predict_by_feat(outputs, episodes)
        # what the head's alignment layers matched, per view, without
        # knowing the head (BaseFewShotHead.match_views / explain)
        views = dict(
            distances=head.view_distances(outputs),
            alignments=head.explain(outputs))
        return [
            query_result(b, sample, episode, outputs, views)
            for b, (sample, episode) in enumerate(
                zip(inputs['data_samples'], episodes))
        ]

    def _fitted(self) -> FittedSupport:
        if self.support is None:
            raise RuntimeError('No support set: call fit(support) before '
                               'classifying queries.')
        return self.support

    # ------------------------------------------------------------------
    # calling
    # ------------------------------------------------------------------
    def __call__(self,
                 inputs: Union[str, Sequence[str]],
                 return_datasamples: bool = False,
                 batch_size: int = 8,
                 out_dir: str = '') -> dict:
        """Classify query clips among the fitted support classes.

        Args:
            inputs (str | Sequence[str]): Query clips (a folder stands for
                its video files).
            return_datasamples (bool): Return the ``ActionDataSample`` of
                each query instead of dicts. Defaults to False.
            batch_size (int): Queries per batch. Defaults to 8.
            out_dir (str): If given, write one PNG per query there
                (:meth:`visualize`). Defaults to ``''``.

        Returns:
            dict: ``predictions`` (one per query, in input order) and
            ``visualization`` (the PNG paths, or an empty list).
        """
        self._fitted()
        paths = self._inputs_to_list(inputs)
        if not paths:
            raise ValueError('No query clips given.')
        # sys.stdout of now, not of import time (mmengine's default)
        progress = ProgressBar(len(paths), file=sys.stdout) \
            if self.show_progress and len(paths) > batch_size else None
        preds = []
        for data in self.preprocess(paths, batch_size=batch_size):
            batch = self.forward(data)
            preds.extend(batch)
            if progress is not None:
                for _ in batch:
                    progress.update()
        if progress is not None:
            sys.stdout.write('\n')  # end the bar's line
        visualization = self.visualize(paths, preds, out_dir=out_dir)
        return self.postprocess(preds, visualization, return_datasamples)

    def predict(self,
                inputs: Union[str, Sequence[str]],
                batch_size: int = 8) -> List[dict]:
        """The ``predictions`` of :meth:`__call__`, as dicts."""
        return self(inputs, batch_size=batch_size)['predictions']

    def visualize(self,
                  inputs: List[str],
                  preds: List[ActionDataSample],
                  show: bool = False,
                  out_dir: str = '',
                  **kwargs) -> List[str]:
        """Write one PNG per query into ``out_dir`` (nothing without it).

        The query's frames above the frames of the best class's support
        clips, the alignment path drawn between them (per view) and a bar
        chart of the class probabilities (:func:`draw_query_alignment`).

        Returns:
            list[str]: The PNG files written.
        """
        if not out_dir:
            return []
        from .alignment_figure import draw_query_figures
        return draw_query_figures(self.pipeline, self._fitted().support_set,
                                  preds, out_dir)

    def postprocess(self,
                    preds: List[ActionDataSample],
                    visualization: List[str],
                    return_datasample: bool = False,
                    **kwargs) -> dict:
        """Data samples, or JSON-friendly dicts of them.

        Each dict has ``video``, ``pred_class``, ``pred_label``,
        ``pred_score``, ``scores`` (``{class: probability}``, in support
        order), ``distances`` (``{view: [N]}``), ``alignment`` (``{view:
        {'path': [N][T][T] bool, 'soft': [N][T][T]}}``), ``clip_key`` and,
        for M2DF, ``prompt_class`` (the class whose text prompted the query)
        and ``prompt_probs``.
        """
        if return_datasample:
            return dict(predictions=preds, visualization=visualization)
        return dict(
            predictions=[result_to_dict(p) for p in preds],
            visualization=visualization)
