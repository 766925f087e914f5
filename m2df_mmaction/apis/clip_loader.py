# Copyright (c) m2df_mmaction contributors.
"""Read clips with a config's test pipeline, checking them first."""
import copy
import hashlib
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.utils import get_str_type
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose

from m2df_mmaction.datasets.file_kinds import sniff_non_video

__all__ = ['ClipError', 'ClipLoader', 'clip_key', 'find_test_pipeline']

_MAX_LISTED = 20


class ClipError(ValueError):
    """Clips that cannot be used: missing, empty, undecodable or too short.

    The message names every such clip and who it belongs to (its class, or
    its place among the queries).
    """


def find_test_pipeline(cfg: Config) -> List[dict]:
    """The pipeline of the config's test videos.

    Follows ``test_dataloader.dataset`` through wrappers (``dataset`` keys,
    e.g. :class:`EpisodicDataset` around a ``VideoDataset``) to the first
    dataset that has a ``pipeline``.

    Args:
        cfg (Config): A full config.

    Returns:
        list[dict]: A copy of the pipeline.

    Raises:
        KeyError: The config has no test pipeline.
    """
    node = cfg.get('test_dataloader', {}).get('dataset')
    while isinstance(node, (dict, ConfigDict)):
        if node.get('pipeline') is not None:
            return copy.deepcopy(list(node['pipeline']))
        node = node.get('dataset')
    raise KeyError('The config has no test pipeline '
                   '(test_dataloader.dataset[.dataset].pipeline).')


def clip_key(inputs: torch.Tensor) -> int:
    """A stable 63-bit key of a decoded clip (BLAKE2b of its frames).

    Args:
        inputs (Tensor): The pipeline's packed ``inputs`` (uint8 frames).

    Returns:
        int: The same for the same frames on every machine, run and device.
    """
    array = inputs.detach().cpu().contiguous().numpy()
    digest = hashlib.blake2b(digest_size=8)
    digest.update(repr((array.shape, str(array.dtype))).encode())
    digest.update(array.tobytes())
    return int.from_bytes(digest.digest(), 'little') & (2**63 - 1)


class ClipLoader:
    """A config's test pipeline, run on video files, with checks up front.

    The pipeline is split before its first decoding transform: the head
    (``DecordInit`` and the frame sampler) opens a clip and chooses its
    frames without decoding them, which :meth:`check` runs on every clip
    before any long work; :meth:`load` runs the whole pipeline. A pipeline
    of frame folders (no ``*Init`` transform) is turned into a video one
    (``DecordInit`` + ``DecordDecode``), and multi-crop testing
    (``ThreeCrop``/``TenCrop``) into ``CenterCrop``, as MMAction2's
    ``ActionRecogInferencer`` does for video inputs: the few-shot heads
    read ``[T, C, H, W]`` as ``T`` time steps.

    The input dict of a clip is the one MMAction2's
    ``inference_recognizer`` builds (``filename``, ``label=-1``,
    ``start_index=0``, ``modality='RGB'``), which is what a
    ``VideoDataset`` adds to its data infos.

    A clip is *too short* when the pipeline would have to repeat frames to
    sample its ``T`` frames (fewer frames than it samples, e.g. under 8 for
    ``SampleFrames(clip_len=1, num_clips=8)``) or index past its end.

    Args:
        pipeline (Sequence[dict]): The test pipeline (see
            :func:`find_test_pipeline`), ending with ``FormatShape`` and
            ``PackActionInputs``.
    """

    def __init__(self, pipeline: Sequence[dict]) -> None:
        pipeline = [dict(t) for t in copy.deepcopy(list(pipeline))]
        types = [get_str_type(t['type']) for t in pipeline]
        decode = next((i for i, t in enumerate(types) if 'Decode' in t),
                      None)
        if decode is None:
            raise ValueError(
                'The test pipeline has no decoding transform (e.g. '
                f'DecordDecode): {types}. The inference API reads video '
                'files.')
        if not any('Init' in t for t in types[:decode]):
            pipeline[decode] = dict(type='DecordDecode')
            pipeline.insert(0, dict(type='DecordInit'))
            decode += 1
        for transform in pipeline:  # one view per frame, as T time steps
            if get_str_type(transform['type']) in ('ThreeCrop', 'TenCrop'):
                transform['type'] = 'CenterCrop'
        self.pipeline_cfg = pipeline
        self.probe_pipeline = Compose(pipeline[:decode])
        self.rest_pipeline = Compose(pipeline[decode:])
        self.sampler = ', '.join(
            get_str_type(t['type']) for t in pipeline[:decode]
            if 'Init' not in get_str_type(t['type']))

    @staticmethod
    def input_dict(path: str) -> dict:
        """The pipeline's input for a video file."""
        return dict(filename=path, label=-1, start_index=0, modality='RGB')

    def problem(self, path: str) -> Optional[str]:
        """What is wrong with a clip, without decoding it.

        Args:
            path (str): The video file.

        Returns:
            str, optional: The reason it cannot be used, or None.
        """
        if not osp.exists(path):
            return 'does not exist'
        if not osp.isfile(path):
            return 'is not a file'
        if osp.getsize(path) == 0:
            return 'is empty (0 bytes)'
        not_video = sniff_non_video(path)  # a text file, an image, ...
        if not_video is not None:
            return f'{not_video}, not a video'
        try:
            results = self.probe_pipeline(self.input_dict(path))
        except Exception as error:  # decord raises several types
            return (f'cannot be opened as a video ({type(error).__name__}: '
                    f'{str(error).strip()[:200]})')
        total = int(results.get('total_frames', 0))
        if total <= 0:
            return 'has no frames'
        inds = np.asarray(results.get('frame_inds', []), dtype=np.int64)
        inds = inds - int(results.get('start_index', 0))
        if inds.size and (np.unique(inds).size < inds.size
                          or inds.max() >= total or inds.min() < 0):
            return (f'is too short: {total} frames, but the test pipeline '
                    f'samples {inds.size} distinct frames ({self.sampler})')
        return None

    def check(self, clips: Sequence[Tuple[str, str]], what: str) -> None:
        """Check clips before any of them is decoded.

        Args:
            clips (Sequence[tuple[str, str]]): ``(path, owner)`` pairs; the
                owner says whose clip it is (``"class 'waving'"``,
                ``'query 3'``).
            what (str): What the clips are, for the message (``'support
                clips'``).

        Raises:
            ClipError: Naming every clip that cannot be used and why.
        """
        problems = []
        for path, owner in clips:
            reason = self.problem(path)
            if reason is not None:
                problems.append(f'{path} ({owner}) {reason}')
        if problems:
            listed = '\n  '.join(problems[:_MAX_LISTED])
            if len(problems) > _MAX_LISTED:
                listed += f'\n  ... and {len(problems) - _MAX_LISTED} more'
            raise ClipError(f'{len(problems)} of {len(clips)} {what} cannot '
                            f'be used:\n  {listed}')

    def load(self, path: str, owner: str) -> dict:
        """Run the whole test pipeline on one clip.

        Args:
            path (str): The video file.
            owner (str): Whose clip it is, for the error message.

        Returns:
            dict: ``inputs`` (e.g. uint8 ``[T, C, H, W]``) and
            ``data_samples`` (an ``ActionDataSample``), as the pipeline packs
            them.

        Raises:
            ClipError: Naming the clip, when it cannot be read or decoded.
        """
        try:
            return self.rest_pipeline(
                self.probe_pipeline(self.input_dict(path)))
        except Exception as error:
            raise ClipError(
                f'{path} ({owner}) cannot be decoded: '
                f'{type(error).__name__}: {str(error).strip()[:200]}'
            ) from error

    def __call__(self, path: str) -> dict:
        """:meth:`load` for a clip of unknown owner."""
        return self.load(path, 'clip')
