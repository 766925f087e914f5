# Copyright (c) m2df_mmaction contributors.
"""A damaged MPEG-4 clip, as a camera or a broken copy leaves one.

Not a test module: the tests that need such a clip import
:func:`write_damaged_clip`.
"""
import cv2
import numpy as np


def write_damaged_clip(path: str, num_frames: int = 120,
                       size: tuple = (64, 48), damaged_bytes: int = 3000,
                       at: float = 0.5) -> str:
    """Write an MPEG-4 part 2 AVI (OpenCV's ``mp4v``, a key frame every 12
    frames) of a moving texture, then overwrite ``damaged_bytes`` bytes in
    the middle of its stream (from ``at`` of the file) with noise.

    The result opens and every frame decodes, but the frames after the
    damage decode to other pixels when decord seeks to them than when it
    decodes in order, and after a seek they depend on what the process
    decoded before (memory FFmpeg recycles): the cause of issue 19's
    resume difference.

    Args:
        path (str): The ``.avi`` file to write.
        num_frames (int): Frames before the damage. Defaults to 120.
        size (tuple): ``(width, height)``. Defaults to ``(64, 48)``.
        damaged_bytes (int): How many bytes to overwrite. Defaults to 3000.
        at (float): Where, as a fraction of the file size. Defaults to 0.5.

    Returns:
        str: ``path``.
    """
    w, h = size
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(
        rng.integers(0, 255, (h * 2, w * 2, 3), dtype=np.uint8), (7, 7), 0)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                             (w, h))
    assert writer.isOpened(), f'OpenCV cannot write {path}'
    for i in range(num_frames):
        x, y = (3 * i) % w, (2 * i) % h
        frame = texture[y:y + h, x:x + w].copy()
        center = (int(w / 2 + w / 3 * np.sin(i / 9)),
                  int(h / 2 + h / 4 * np.cos(i / 7)))
        cv2.circle(frame, center, max(3, w // 10), (255, 0, 0), -1)
        writer.write(frame)
    writer.release()
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    start = int(len(data) * at)
    data[start:start + damaged_bytes] = np.random.default_rng(1).bytes(
        damaged_bytes)
    with open(path, 'wb') as f:
        f.write(bytes(data))
    return path
