# Copyright (c) m2df_mmaction contributors.
"""A picture of one query: its frames, the best class, the alignment."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

__all__ = ['draw_query_alignment', 'draw_query_figures', 'frame_strip']

_VIEW_STYLES = (dict(color='tab:orange', linestyle='-'),
                dict(color='tab:blue', linestyle='--'),
                dict(color='tab:green', linestyle=':'))


def frame_strip(rows: Sequence[np.ndarray],
                pad: int = 2,
                gap: int = 0) -> np.ndarray:
    """Put clips under each other, frames side by side, on white.

    Args:
        rows (Sequence[np.ndarray]): Clips, uint8 ``[T, H, W, 3]``, all of
            the same shape.
        pad (int): Pixels between frames and rows. Defaults to 2.
        gap (int): Extra pixels between the first row and the others (room
            for the alignment lines). Defaults to 0.

    Returns:
        np.ndarray: uint8 ``[H', W', 3]``.
    """
    frames, height, width = rows[0].shape[:3]
    canvas = np.full((len(rows) * (height + pad) + gap,
                      frames * (width + pad), 3), 255, dtype=np.uint8)
    for r, clip in enumerate(rows):
        top = r * (height + pad) + (gap if r else 0)
        for t, frame in enumerate(clip):
            left = t * (width + pad)
            canvas[top:top + height, left:left + width] = frame
    return canvas


def draw_query_alignment(query: np.ndarray,
                         supports: List[np.ndarray],
                         scores: Sequence[float],
                         class_names: Sequence[str],
                         paths: Dict[str, np.ndarray],
                         title: str,
                         out_file: Optional[str] = None,
                         dpi: int = 100):
    """Draw a query against its best-matching class and save it as a PNG.

    Top: the query's ``T`` frames. Below: the frames of each support clip of
    the predicted class (the class prototype's frame ``m`` is the mean of
    column ``m``). Between them, one line per cell ``(l, m)`` of each view's
    alignment path: query frame ``l`` is aligned to prototype frame ``m``.
    Right: the probability of every support class, the predicted one
    highlighted.

    Args:
        query (np.ndarray): uint8 ``[T, H, W, 3]``.
        supports (list[np.ndarray]): The ``K`` clips of the predicted
            class, each uint8 ``[T, H, W, 3]``.
        scores (Sequence[float]): ``[N]`` class probabilities.
        class_names (Sequence[str]): ``[N]`` names.
        paths (dict[str, np.ndarray]): ``{view: [T, T] bool}`` paths
            to the predicted class (query frames by prototype frames);
            empty for heads without alignment.
        title (str): Figure title.
        out_file (str, optional): PNG to write. None returns the figure.
        dpi (int): Resolution. Defaults to 100.

    Returns:
        matplotlib.figure.Figure | None: The figure when ``out_file`` is
        None.
    """
    # The object-oriented API: no pyplot state, no change of backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames, height, width = query.shape[:3]
    pad, gap = max(2, width // 16), height  # one frame height for the lines
    strip = frame_strip([query, *supports], pad=pad, gap=gap)
    num_ways = len(class_names)
    best = int(np.argmax(scores))
    fig_w = 3.0 + 1.1 * frames
    fig_h = max(1.3 * (len(supports) + 2), 0.28 * num_ways + 1.2)
    fig = Figure(figsize=(fig_w + 4.0, fig_h), dpi=dpi)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1, 2, width_ratios=[fig_w, 4.0], wspace=0.45)

    ax = fig.add_subplot(grid[0])
    ax.imshow(strip, interpolation='nearest')
    ax.set_xticks([(t + 0.5) * (width + pad) for t in range(frames)])
    ax.set_xticklabels([str(t) for t in range(frames)], fontsize=7)
    ax.xaxis.set_ticks_position('top')  # frame numbers above the query
    rows_y = [height / 2] + [
        r * (height + pad) + gap + height / 2
        for r in range(1, len(supports) + 1)
    ]
    ax.set_yticks(rows_y)
    ax.set_yticklabels(['query'] + [
        f'{class_names[best]}\nclip {k + 1}' for k in range(len(supports))
    ],
                       fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    top, bottom = height + 0.5, height + pad + gap - 0.5
    for (view, path), style in zip(sorted(paths.items()), _VIEW_STYLES):
        # the head's view: an OTAM alignment path, Bi-MHM's nearest frames,
        # TRX's most attended frame pairs (BaseFewShotHead.explain)
        name = f'matched frames, {view}'
        cells = np.argwhere(np.asarray(path))
        for i, (l, m) in enumerate(cells):
            ax.plot([(l + 0.5) * (width + pad) - pad / 2,
                     (m + 0.5) * (width + pad) - pad / 2], [top, bottom],
                    linewidth=1.2,
                    alpha=0.85,
                    label=name if i == 0 else None,
                    **style)
    if paths:
        ax.legend(
            loc='upper center',
            bbox_to_anchor=(0.5, -0.01),
            ncol=len(paths),
            fontsize=7,
            frameon=False)
    ax.set_title(title, fontsize=9, pad=14)

    bars = fig.add_subplot(grid[1])
    colors = ['tab:red' if k == best else 'tab:gray' for k in range(num_ways)]
    bars.barh(range(num_ways), scores, color=colors)
    bars.set_yticks(range(num_ways))
    bars.set_yticklabels(class_names, fontsize=7)
    bars.invert_yaxis()
    bars.set_xlim(0, 1)
    bars.set_xlabel('probability', fontsize=8)
    bars.tick_params(axis='x', labelsize=7)
    for k, score in enumerate(scores):
        bars.text(
            min(float(score), 0.82) + 0.02,
            k,
            f'{float(score):.2f}',
            va='center',
            fontsize=6)
    if out_file is None:
        return fig
    fig.savefig(out_file, bbox_inches='tight')
    return None


def draw_query_figures(loader, support, preds: List,
                       out_dir: str) -> List[str]:
    """One PNG per query prediction of :class:`FewShotInferencer`
    (:func:`draw_query_alignment` with the frames of the query and of the
    predicted class's support clips, and each alignment view's path).

    Args:
        loader (ClipLoader): Decodes clips with the test pipeline.
        support (SupportSet): The fitted support classes and clips.
        preds (list[ActionDataSample]): Query results
            (:func:`query_result`).
        out_dir (str): Folder of the PNGs (created).

    Returns:
        list[str]: The PNG files written.
    """
    os.makedirs(out_dir, exist_ok=True)
    files, support_frames = [], {}
    for pred in preds:
        path = pred.metainfo['filename']
        label = int(pred.pred_label)
        name = support.class_names[label]
        if label not in support_frames:
            support_frames[label] = [
                _frames(loader.load(clip, f'class {name!r}'))
                for clip in support.clips[name]
            ]
        query = _frames(loader.load(path, 'query'))
        stem = osp.splitext(osp.basename(path))[0]
        parent = osp.basename(osp.dirname(osp.abspath(path)))
        out_file = osp.join(
            out_dir, f'{pred.metainfo["query_index"]:03d}_{parent}_'
            f'{stem}.png')
        draw_query_alignment(
            query,
            support_frames[label],
            scores=pred.pred_score.numpy(),
            class_names=support.class_names,
            paths=_class_paths(pred, label),
            title=f'{osp.basename(path)}: {name} '
            f'({float(pred.pred_score[label]):.1%})',
            out_file=out_file)
        files.append(out_file)
    return files


def _class_paths(pred, label: int) -> Dict[str, np.ndarray]:
    """``{view: [T, T] bool}`` of the predicted class. A head that matches
    every support clip by itself (HyRSM's 1-shot class with K > 1 clips)
    gives ``[K, T, T]``: the lines then go to the first clip, the row
    under the query, and the legend says so."""
    paths = {}
    for key in pred.keys():
        if not key.startswith('alignment_path_'):
            continue
        view, path = key[len('alignment_path_'):], pred.get(key)[label]
        if path.dim() == 3:
            view, path = f'{view}, clip 1', path[0]
        paths[view] = path.numpy()
    return paths


def _frames(item: dict) -> np.ndarray:
    """uint8 ``[T, H, W, 3]`` frames of a packed ``[T, C, H, W]`` clip."""
    return item['inputs'].permute(0, 2, 3, 1).numpy().astype(np.uint8)
