# Copyright (c) m2df_mmaction contributors.
"""Write frames as mp4 files that decord (and MMAction2) read back."""
import os
import os.path as osp

import cv2
import numpy as np

__all__ = ['write_video']


def write_video(path: str, frames: np.ndarray, fps: float = 8.0) -> None:
    """Write RGB frames to an mp4 file with the ``mp4v`` codec.

    Args:
        path (str): Output ``.mp4`` path; parent folders are created.
        frames (np.ndarray): uint8 ``[T, H, W, 3]`` RGB frames.
        fps (float): Frame rate written in the file. Defaults to 8.
    """
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    t, h, w, _ = frames.shape
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV could not open a mp4v writer for {path}')
    try:
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
