# Copyright (c) m2df_mmaction contributors.
"""t-SNE of query features on fixed test episodes, coloured by class.

``python tools/analysis/tsne.py CONFIG CKPT [--ckpt2 CKPT2 [--config2 C2]]
--out tsne.png --episodes 100``

The features are the frame encoder's, averaged over time and L2-normalised
(what every head starts from, so ProtoNet, OTAM, CLIP-FSAR and M2DF
checkpoints compare on the same footing; a head's fused features exist only
for some heads). Each test video is drawn once, even when several episodes
query it. Each panel's title gives the leave-one-out 1-nearest-neighbour
accuracy of the features (cosine), a number to go with the picture.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from _common import (build_test_episodes, iter_episodes,  # noqa: E402
                     load_config, load_model, model_label)
from matplotlib import pyplot as plt  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='t-SNE of query features of one or two checkpoints')
    parser.add_argument('config', help='config of the checkpoint')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--ckpt2', help='a second checkpoint, side by side')
    parser.add_argument(
        '--config2', help='config of --ckpt2 (defaults to CONFIG)')
    parser.add_argument('--label', help='name of the first model')
    parser.add_argument('--label2', help='name of the second model')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--episodes', type=int, default=100, help='test episodes to use')
    parser.add_argument('--seed', type=int, default=0, help='t-SNE seed')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides, as in tools/test.py')
    return parser.parse_args(argv)


def query_features(config, checkpoint, episodes, cfg_options=None):
    """Temporal-mean query features of the fixed test episodes.

    Returns:
        tuple: features ``[M, D]`` (L2-normalised), global class ids
        ``[M]`` and the test split's class names (or None).
    """
    cfg = load_config(config, cfg_options)
    model = load_model(cfg, checkpoint)
    dataset = build_test_episodes(cfg, episodes)
    feats, labels, seen = [], [], set()
    for episode, sample in iter_episodes(model, dataset, 't-SNE features'):
        meta = sample.metainfo
        videos = meta['video_indices'][-episode.num_query_videos:]
        for video, feat, label in zip(videos, episode.query[0],
                                      sample.gt_label.tolist()):
            if video in seen:
                continue
            seen.add(video)
            feats.append(F.normalize(feat.mean(0), dim=-1))
            labels.append(meta['class_ids'][label])
    return (torch.stack(feats).numpy(), np.array(labels),
            meta.get('all_class_names'))


def nn_accuracy(feats: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out 1-NN accuracy (cosine) of normalised features, %."""
    sim = feats @ feats.T
    np.fill_diagonal(sim, -np.inf)
    return 100.0 * float((labels[sim.argmax(1)] == labels).mean())


def embed(feats: np.ndarray, seed: int) -> np.ndarray:
    """2-D t-SNE of ``[M, D]`` features."""
    perplexity = float(min(30, max(2, (len(feats) - 1) // 3)))
    return TSNE(
        n_components=2, perplexity=perplexity, init='pca',
        random_state=seed).fit_transform(feats)


def plot(panels, class_names, out):
    """One scatter per model, a shared legend of the classes."""
    classes = sorted({int(c) for _, _, labels in panels for c in labels})
    cmap = plt.get_cmap('tab20' if len(classes) > 10 else 'tab10')
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.2 * len(panels) + 1.8, 4.2),
        squeeze=False)
    for ax, (title, points, labels) in zip(axes[0], panels):
        for i, cls in enumerate(classes):
            mask = labels == cls
            name = class_names[cls] if class_names else str(cls)
            ax.scatter(points[mask, 0], points[mask, 1], s=14,
                       color=cmap(i % cmap.N), label=name, alpha=0.85)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, names = axes[0][-1].get_legend_handles_labels()
    fig.legend(handles, names, loc='center right', fontsize=7,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1 - 1.8 / fig.get_figwidth(), 1))
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    runs = [(args.config, args.checkpoint,
             model_label(args.config, args.label))]
    if args.ckpt2:
        config2 = args.config2 or args.config
        runs.append((config2, args.ckpt2, model_label(config2,
                                                      args.label2)))
    panels, class_names = [], None
    for config, checkpoint, label in runs:
        feats, labels, class_names = query_features(
            config, checkpoint, args.episodes, args.cfg_options)
        title = (f'{label}\n{len(feats)} query videos, '
                 f'1-NN acc {nn_accuracy(feats, labels):.1f}%')
        panels.append((title, embed(feats, args.seed), labels))
    plot(panels, class_names, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
