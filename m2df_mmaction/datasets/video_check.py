# Copyright (c) m2df_mmaction contributors.
"""Checks that a video file or a frame folder can be trained on.

Shared by ``tools/data/build_fewshot_ann.py`` (which checks every listed
video before writing annotations) and ``tools/data/extract_frames.py``
(which checks what it writes). Each check returns ``None`` when the input
is fine, or a :class:`VideoProblem` ``(kind, detail)`` naming what is wrong;
the kinds are those of :data:`PROBLEMS`:

- ``missing``: no such file (folder);
- ``empty``: 0 bytes (no frames);
- ``unreadable``: decord cannot open it (frames misnamed, for a folder);
- ``too_short``: fewer frames than asked for (or than expected);
- ``undecodable``: it opens, but a frame the pipeline samples does not
  decode;
- ``unstable_decode``: every frame decodes, but some decode to other
  pixels when decord seeks to them than when it decodes in order (a
  damaged stream; after a seek they even differ between processes, which
  breaks determinism and exact resume). Re-encode the clip, e.g. with
  ``tools/data/transcode_videos.py``, or leave it out.

``bad_path`` (white space in an annotation path) belongs to annotation
files and is reported by the tools, not here.

Example:
    >>> problem = check_video('data/hmdb51/videos/missing.avi', 8, 8)
    >>> problem.kind
    'missing'
"""
import contextlib
import os
import os.path as osp
import threading
from typing import List, NamedTuple, Optional

import numpy as np

__all__ = [
    'PROBLEMS', 'VideoProblem', 'sample_indices', 'check_video',
    'count_frames', 'check_frame_dir', 'quiet_decord', 'open_video'
]

PROBLEMS = ('bad_path', 'missing', 'empty', 'unreadable', 'too_short',
            'undecodable', 'unstable_decode')


class VideoProblem(NamedTuple):
    """What is wrong with one input: a kind of :data:`PROBLEMS` and a
    human-readable detail (may be empty)."""

    kind: str
    detail: str


def quiet_decord() -> None:
    """Silence decord's FFmpeg log lines (a broken file would print
    hundreds of them)."""
    try:
        import decord
        decord.logging.set_level(decord.logging.QUIET)
    except (ImportError, AttributeError):
        pass


_STDERR_LOCK = threading.Lock()
_stderr_users = [0, None]  # open quiet sections, the saved stderr fd


@contextlib.contextmanager
def _quiet_stderr():
    """Drop what C++ code writes to file descriptor 2 meanwhile: decord
    prints ``ERROR opening: <file>, <reason>`` there for a file it cannot
    open (its logging level does not cover it), although the exception it
    raises says the same and the check reports it. Thread-safe: stderr is
    restored when the last of concurrent sections ends."""
    with _STDERR_LOCK:
        if _stderr_users[0] == 0:
            try:
                saved = os.dup(2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
                _stderr_users[1] = saved
            except OSError:
                _stderr_users[1] = None
        _stderr_users[0] += 1
    try:
        yield
    finally:
        with _STDERR_LOCK:
            _stderr_users[0] -= 1
            if _stderr_users[0] == 0 and _stderr_users[1] is not None:
                os.dup2(_stderr_users[1], 2)
                os.close(_stderr_users[1])
                _stderr_users[1] = None


def open_video(path: str):
    """A ``decord.VideoReader`` (one thread), without decord's
    ``ERROR opening`` line on stderr for a file it cannot open (the raised
    error says the same)."""
    import decord
    with _quiet_stderr():
        return decord.VideoReader(path, num_threads=1)


def sample_indices(num_frames: int, num_clips: int) -> List[int]:
    """Frames ``SampleFrames(clip_len=1, test_mode=True)`` reads, and the
    last frame (training samples anywhere).

    Args:
        num_frames (int): Frames of the video.
        num_clips (int): Frames the pipeline samples.

    Returns:
        list[int]: Sorted distinct 0-based frame indices.

    Example:
        >>> sample_indices(80, 8)
        [5, 15, 25, 35, 45, 55, 65, 75, 79]
    """
    interval = num_frames / float(num_clips)
    idx = (np.arange(num_clips) * interval + interval / 2.0).astype(int)
    return sorted(set(np.clip(idx, 0, num_frames - 1).tolist()) |
                  {num_frames - 1})


def _error(error: Exception) -> str:
    return f'{type(error).__name__}: {error}'[:200]


def check_video(path: str, min_frames: int,
                num_clips: int) -> Optional[VideoProblem]:
    """Check a video file with decord, as ``DecordInit`` opens it.

    Every frame must decode in order (as the pipelines decode,
    ``VideoOrFramesDecode``), and the frames the pipeline samples plus each
    key frame must decode to the same pixels when decord seeks to them (as
    MMAction2's ``DecordDecode`` reads): a clip whose pixels depend on how
    it is read is ``unstable_decode``.

    Args:
        path (str): The video file.
        min_frames (int): Fewest frames it may have.
        num_clips (int): Frames the pipeline samples
            (:func:`sample_indices`).

    Returns:
        VideoProblem | None: The problem, or None if the video is fine.
    """
    if not osp.isfile(path):
        return VideoProblem('missing', '')
    if osp.getsize(path) == 0:
        return VideoProblem('empty', '0 bytes')
    try:
        reader = open_video(path)
        num = len(reader)
    except Exception as error:  # decord raises several types
        return VideoProblem('unreadable', _error(error))
    if num < min_frames:
        return VideoProblem('too_short', f'{num} frames < {min_frames}')
    from .transforms.loading import iter_frames_in_order
    keys = [int(k) for k in reader.get_key_indices() if 0 <= k < num]
    probe = sorted(set(sample_indices(num, num_clips)) | set(keys))
    try:  # every frame, in order
        in_order = dict(iter_frames_in_order(reader, range(num)))
    except Exception as error:
        return VideoProblem('undecodable', _error(error))
    try:  # seeking to each key frame and sampled frame
        seeked = open_video(path).get_batch(probe).asnumpy()
    except Exception as error:
        return VideoProblem(
            'unstable_decode', 'every frame decodes in order, but seeking '
            f'fails ({_error(error)[:80]}): ' + _UNSTABLE_FIX)
    differ = [(i, int(np.abs(frame.astype(np.int16) - in_order[i]).max()))
              for i, frame in zip(probe, seeked)
              if not np.array_equal(frame, in_order[i])]
    if differ:
        return VideoProblem(
            'unstable_decode',
            f'{len(differ)} of {len(probe)} checked frames (first: frame '
            f'{differ[0][0]}) decode to other pixels when seeked to than in '
            f'order (up to {max(d for _, d in differ)} levels): a damaged '
            'stream; ' + _UNSTABLE_FIX)
    return None


_UNSTABLE_FIX = ('re-encode it (tools/data/transcode_videos.py) or leave '
                 'it out (--allow-missing)')


def count_frames(frame_dir: str, filename_tmpl: str) -> int:
    """Number of files with the extension of ``filename_tmpl`` in a folder.

    Args:
        frame_dir (str): The frame folder.
        filename_tmpl (str): Frame file names, e.g. ``'img_{:05}.jpg'``.

    Returns:
        int: The number of frame files.
    """
    suffix = osp.splitext(filename_tmpl)[1]
    return sum(1 for f in os.listdir(frame_dir) if f.endswith(suffix))


def check_frame_dir(path: str,
                    min_frames: int,
                    filename_tmpl: str = 'img_{:05}.jpg',
                    start_index: int = 1,
                    num_frames: Optional[int] = None,
                    decode: str = 'middle',
                    num_clips: int = 8) -> Optional[VideoProblem]:
    """Check a folder of frames, as ``RawFrameDecode`` reads it.

    Args:
        path (str): The frame folder.
        min_frames (int): Fewest frames it may have.
        filename_tmpl (str): Frame file names. Defaults to
            ``'img_{:05}.jpg'``.
        start_index (int): Number of the first frame. Defaults to 1.
        num_frames (int, optional): The exact number of frames expected
            (e.g. those of the source video); more or fewer is a problem.
            Defaults to None (not checked).
        decode (str): Which frames must decode: ``'middle'`` (one, a quick
            check), ``'sampled'`` (the frames the test pipeline samples,
            :func:`sample_indices`, the first, the middle and the last) or
            ``'all'``.
            Defaults to ``'middle'``.
        num_clips (int): Frames the pipeline samples (``decode='sampled'``).
            Defaults to 8.

    Returns:
        VideoProblem | None: The problem, or None if the folder is fine.
    """
    if decode not in ('middle', 'sampled', 'all'):
        raise ValueError(f"decode must be 'middle', 'sampled' or 'all', got "
                         f'{decode!r}')
    if not osp.isdir(path):
        return VideoProblem('missing', '')
    num = count_frames(path, filename_tmpl)
    if num == 0:
        return VideoProblem('empty', 'no frames')
    if num < min_frames:
        return VideoProblem('too_short', f'{num} frames < {min_frames}')
    if num_frames is not None and num != num_frames:
        return VideoProblem(
            'too_short' if num < num_frames else 'unreadable',
            f'{num} frames, expected {num_frames}')
    for i in (start_index, start_index + num - 1):
        if not osp.isfile(osp.join(path, filename_tmpl.format(i))):
            return VideoProblem(
                'unreadable', f'{filename_tmpl.format(i)} missing: frames '
                f'not named {filename_tmpl!r} from {start_index}')
    if decode == 'middle':
        indices = [num // 2]
    elif decode == 'sampled':
        indices = sorted(set(sample_indices(num, num_clips)) | {0, num // 2})
    else:
        indices = range(num)
    for i in indices:
        name = filename_tmpl.format(start_index + i)
        file = osp.join(path, name)
        if not osp.isfile(file):
            return VideoProblem('unreadable', f'{name} missing')
        if _imdecode(file) is None:
            return VideoProblem('undecodable', f'{name} does not decode')
    return None


def _imdecode(file: str) -> Optional[np.ndarray]:
    """The decoded image, or None (OpenCV raises on an empty buffer)."""
    import cv2
    data = np.fromfile(file, np.uint8)
    if data.size == 0:
        return None
    try:
        return cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        return None
