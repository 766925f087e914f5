# Copyright (c) m2df_mmaction contributors.
"""Load a clip from a video file or from its extracted frames.

The fast training input path (docs/data_preparation.md) stores each video
as a folder of JPEG frames, written once by ``tools/data/extract_frames.py``
(or ``build_fewshot_ann.py --extract-frames``) under a frames root that
mirrors the video root: the frames of ``videos/<class>/<clip>.avi`` are
``frames/<class>/<clip>.avi/img_00001.jpg ...`` plus :data:`FRAMES_META`
(``frames.json``: ``total_frames``, ``avg_fps``, the extraction settings),
which is written last, so a folder without it is not a finished one.

Why wrappers: MMAction2's ``DecordInit``/``DecordDecode`` only open video
files, and its ``RawFrameDecode`` needs a ``RawframeDataset`` (``frame_dir``,
``total_frames`` and ``filename_tmpl`` from a different annotation format)
and sets no ``avg_fps``. :class:`VideoOrFramesInit` and
:class:`VideoOrFramesDecode` take their places in one pipeline and read
either input, chosen by what the path is on disk: a video file goes to
``DecordInit``/``DecordDecode`` unchanged, a frame folder to
``RawFrameDecode``. So the same pipelines, annotation files and
``VideoDataset`` serve both, and the switch from videos to frames is the
data root alone.

Videos are decoded forward only (``mode='sequential'``, the default of
:class:`VideoOrFramesDecode`): the frames a clip gives are a pure function
of the file and the frame indices. MMAction2's ``DecordDecode`` seeks to
each key frame before the wanted ones; on a damaged stream (bytes lost in
the middle: decord indexes key frames that FFmpeg then seeks to elsewhere)
the frames after the damage then decode to other pixels than in order, and
differ between processes, because FFmpeg predicts them from reference
buffers it never decoded, i.e. memory it recycles from what the process
decoded before. That made a resumed training differ from an uninterrupted
one (issue 19). On healthy clips both give the very same pixels.
"""
import json
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from mmaction.datasets.transforms import (DecordDecode, DecordInit,
                                          RawFrameDecode)
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.fileio import FileClient

__all__ = [
    'FRAMES_META', 'FRAME_TMPL', 'read_frames_meta', 'iter_frames_in_order',
    'decode_in_order', 'VideoOrFramesInit', 'VideoOrFramesDecode'
]

# The on-disk format of an extracted frame folder.
FRAMES_META = 'frames.json'
FRAME_TMPL = 'img_{:05}.jpg'  # numbered from 1, as RawframeDataset's


def read_frames_meta(frame_dir: str,
                     file_client: Optional[FileClient] = None
                     ) -> Optional[dict]:
    """The :data:`FRAMES_META` of a frame folder, or None if it has none.

    Args:
        frame_dir (str): The frame folder.
        file_client (FileClient, optional): Where to read it from. Defaults
            to None (the local disk).

    Returns:
        dict | None: At least ``total_frames``, ``avg_fps``,
        ``filename_tmpl`` and ``start_index``.
    """
    path = osp.join(frame_dir, FRAMES_META)
    if file_client is None:
        if not osp.isfile(path):
            return None
        with open(path, 'rb') as f:
            return json.loads(f.read())
    if not file_client.isfile(path):
        return None
    return json.loads(file_client.get(path))


def iter_frames_in_order(reader, frame_inds: Sequence[int],
                         chunk: int = 16) -> Iterator[Tuple[int, np.ndarray]]:
    """Decode frames of a decord ``VideoReader`` forward only, never
    seeking: ``(index, frame)`` for each distinct index, ascending.

    decord seeks whenever the next wanted frame lies after another key
    frame (``get_batch``, ``skip_frames``). Here the wanted indices are
    interleaved with the frame before each key frame, so that every step of
    ``get_batch`` stays in the current group of pictures: decord decodes on
    (skipping the colour conversion of the frames in between) and the
    decoder state is only ever the one decoding in order from frame 0
    gives, whatever happened before. As fast as ``get_batch`` on clips with
    long groups of pictures (H.264, VP9), slower where key frames are dense.

    Args:
        reader (decord.VideoReader): A reader, fresh or used (it is rewound
            to frame 0 first).
        frame_inds (Sequence[int]): 0-based frame indices, any order.
        chunk (int): Frames decoded per ``get_batch`` call (bounds the
            memory). Defaults to 16.

    Yields:
        tuple[int, np.ndarray]: The index and its ``[H, W, 3]`` RGB frame.
    """
    wanted = sorted({int(i) for i in frame_inds})
    if not wanted:
        return
    num = len(reader)
    if wanted[0] < 0 or wanted[-1] >= num:
        raise IndexError(f'frame indices {wanted[0]}..{wanted[-1]} out of '
                         f'the {num} frames of the video')
    steps = {int(k) - 1 for k in reader.get_key_indices()
             if 1 <= k <= wanted[-1]}
    order = sorted(steps.union(wanted))
    keep = set(wanted)
    reader.seek(0)  # a no-op on a fresh reader
    for start in range(0, len(order), chunk):
        part = order[start:start + chunk]
        frames = reader.get_batch(part).asnumpy()
        for index, frame in zip(part, frames):
            if index in keep:
                yield index, frame


def decode_in_order(reader, frame_inds: Sequence[int]) -> List[np.ndarray]:
    """The frames ``frame_inds`` (in that order, repeats allowed) of a
    decord reader, decoded by :func:`iter_frames_in_order`.

    Example:
        >>> frames = decode_in_order(decord.VideoReader(path), [9, 0, 9])
        >>> len(frames), frames[0].shape
        (3, (240, 320, 3))
    """
    frames = dict(iter_frames_in_order(reader, frame_inds))
    return [frames[int(i)] for i in frame_inds]


class _InOrderDecordDecode(DecordDecode):
    """``DecordDecode`` (same keys) that decodes by
    :func:`decode_in_order`."""

    def __init__(self) -> None:
        self.mode = 'sequential'

    def _decord_load_frames(self, container,
                            frame_inds: np.ndarray) -> List[np.ndarray]:
        return decode_in_order(container, frame_inds.reshape(-1).tolist())


@TRANSFORMS.register_module()
class VideoOrFramesInit(BaseTransform):
    """``DecordInit`` for a video file, or the same keys for a frame folder.

    A drop-in replacement of ``DecordInit``: on a video file it is
    ``DecordInit`` (same arguments, same keys). On a folder of extracted
    frames (``filename`` is a folder, or the results come from a
    ``RawframeDataset`` with ``frame_dir``) it reads the folder's
    ``frames.json`` and sets what ``DecordInit`` would set for the source
    video, plus what ``RawFrameDecode`` needs.

    Required Keys:

        - filename (a video file or a frame folder), or frame_dir
        - start_index (frame folders)

    Added Keys:

        - total_frames
        - avg_fps
        - video_reader (video files)
        - frame_dir, filename_tmpl, offset (frame folders)

    Args:
        io_backend (str): Where the videos and frames are stored. Defaults
            to ``'disk'``.
        num_threads (int): Decoding threads of decord (video files).
            Defaults to 1.
        kwargs (dict): Arguments of the file client.
    """

    def __init__(self,
                 io_backend: str = 'disk',
                 num_threads: int = 1,
                 **kwargs) -> None:
        self.io_backend = io_backend
        self.num_threads = num_threads
        self.kwargs = kwargs
        self.decord_init = DecordInit(io_backend, num_threads, **kwargs)
        self.file_client = None

    def transform(self, results: Dict) -> Dict:
        """Open the video, or read the frame folder's metadata.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if self.file_client is None:
            self.file_client = FileClient(self.io_backend, **self.kwargs)
        frame_dir = results.get('frame_dir')
        if frame_dir is None:
            filename = results['filename']
            if not self.file_client.isdir(filename):
                return self.decord_init(results)
            frame_dir = filename
        meta = read_frames_meta(frame_dir, self.file_client)
        if meta is None:
            if 'filename' in results and 'frame_dir' not in results:
                raise FileNotFoundError(
                    f'{frame_dir} is a folder without {FRAMES_META}: not a '
                    'finished frame extraction (rerun '
                    'tools/data/extract_frames.py, which resumes), nor a '
                    'video file.')
            return results  # a RawframeDataset folder from elsewhere
        start_index = results.get('start_index', 0)
        results['frame_dir'] = frame_dir
        results['total_frames'] = int(meta['total_frames'])
        results['avg_fps'] = float(meta['avg_fps'])
        results['filename_tmpl'] = meta.get('filename_tmpl', FRAME_TMPL)
        # frame index i (counted from start_index) is file number
        # i - start_index + the folder's first number
        results['offset'] = results.get('offset', 0) + int(
            meta.get('start_index', 1)) - start_index
        results.setdefault('modality', 'RGB')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(io_backend={self.io_backend}, '
                f'num_threads={self.num_threads})')


@TRANSFORMS.register_module()
class VideoOrFramesDecode(BaseTransform):
    """``DecordDecode`` for a video, ``RawFrameDecode`` for a frame folder.

    A drop-in replacement of ``DecordDecode``, after
    :class:`VideoOrFramesInit`.

    Required Keys:

        - frame_inds
        - video_reader (video files), or frame_dir, filename_tmpl,
          modality and offset (frame folders)

    Added Keys:

        - imgs
        - original_shape
        - img_shape

    Args:
        mode (str): How video files are decoded: ``'sequential'`` (forward
            only, :func:`decode_in_order`: a pure function of the file and
            the indices, so runs and resumed runs see the same pixels even
            on damaged clips), or ``DecordDecode``'s ``'accurate'`` (seeks;
            the same pixels on healthy clips, faster where key frames are
            dense) or ``'efficient'``. Defaults to ``'sequential'``.
        io_backend (str): Where the frames are stored. Defaults to
            ``'disk'``.
        decoding_backend (str): JPEG decoder of ``RawFrameDecode``:
            ``'cv2'`` (the libjpeg-turbo bundled with opencv-python, as fast
            as ``'turbojpeg'`` here) or any mmcv image backend. Defaults to
            ``'cv2'``.
    """

    def __init__(self,
                 mode: str = 'sequential',
                 io_backend: str = 'disk',
                 decoding_backend: str = 'cv2',
                 **kwargs) -> None:
        if mode == 'sequential':
            self.decord_decode = _InOrderDecordDecode()
        elif mode in ('accurate', 'efficient'):
            self.decord_decode = DecordDecode(mode)
        else:
            raise ValueError("VideoOrFramesDecode: mode must be 'sequential', "
                             f"'accurate' or 'efficient', got {mode!r}")
        self.frame_decode = RawFrameDecode(io_backend, decoding_backend,
                                           **kwargs)

    def transform(self, results: Dict) -> Dict:
        """Decode the frames ``frame_inds``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if results.get('video_reader') is not None or \
                'frame_dir' not in results:
            return self.decord_decode(results)
        return self.frame_decode(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mode={self.decord_decode.mode}, '
                f'io_backend={self.frame_decode.io_backend}, '
                'decoding_backend='
                f'{self.frame_decode.decoding_backend})')
