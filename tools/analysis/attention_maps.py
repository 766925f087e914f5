# Copyright (c) m2df_mmaction contributors.
"""Attention maps of the CLIP visual encoder over a support and a query.

``python tools/analysis/attention_maps.py CONFIG CKPT --out attn.png
[--episode 0] [--way 0] [--method rollout|last]``

For one class of a fixed test episode, the first support video and the
first query video of that class go through the model's
:class:`OpenCLIPVisual` (a ViT tower). Every block's
``nn.MultiheadAttention`` is asked for its weights by a forward pre-hook
(open_clip calls it with ``need_weights=False``) and a forward hook keeps
them, averaged over heads. ``rollout`` (default; Abnar & Zuidema, 2020)
multiplies ``0.5 * A + 0.5 * I`` over the blocks; ``last`` takes the last
block's attention. The class token's row over the patches, upsampled, is
drawn over each frame. The query's title gives the head's prediction.
"""
import argparse
import os.path as osp
import sys
from typing import List

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from _common import build_test_episodes, load_config, load_model  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from open_clip.transformer import VisionTransformer  # noqa: E402
from torch import Tensor, nn  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Attention maps of the CLIP ViT over a support and a '
        'query video')
    parser.add_argument('config', help='config of the checkpoint')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--episode', type=int, default=0, help='test episode index')
    parser.add_argument(
        '--way', type=int, default=0, help='class of the episode to show')
    parser.add_argument(
        '--method', choices=('rollout', 'last'), default='rollout',
        help='attention rollout over all blocks or the last block only')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides, as in tools/test.py')
    return parser.parse_args(argv)


class AttentionRecorder:
    """Collect head-averaged attention weights of ``nn.MultiheadAttention``
    modules, which open_clip calls with ``need_weights=False``.

    Args:
        modules (list[nn.MultiheadAttention]): In forward order.
    """

    def __init__(self, modules: List[nn.MultiheadAttention]) -> None:
        self.weights: List[Tensor] = []
        self.handles = []
        for module in modules:
            self.handles.append(
                module.register_forward_pre_hook(
                    self._ask_weights, with_kwargs=True))
            self.handles.append(module.register_forward_hook(self._keep))

    @staticmethod
    def _ask_weights(module, args, kwargs):
        kwargs.update(need_weights=True, average_attn_weights=True)
        return args, kwargs

    def _keep(self, module, args, output):
        self.weights.append(output[1].detach())  # [M, L, L]

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def cls_attention(weights: List[Tensor], method: str) -> Tensor:
    """The class token's attention to each patch.

    Args:
        weights (list[Tensor]): Per block ``[M, L, L]``, token 0 = class.
        method (str): ``'rollout'`` or ``'last'``.

    Returns:
        Tensor: ``[M, L - 1]``.
    """
    if method == 'last':
        return weights[-1][:, 0, 1:]
    eye = torch.eye(weights[0].shape[-1])
    rollout = eye.expand_as(weights[0])
    for attn in weights:
        attn = 0.5 * attn + 0.5 * eye
        attn = attn / attn.sum(-1, keepdim=True)
        rollout = attn @ rollout
    return rollout[:, 0, 1:]


def frame_heatmaps(visual: VisionTransformer, frames: Tensor,
                   method: str) -> np.ndarray:
    """Attention heatmaps ``[M, H, W]`` in [0, 1] of normalised frames
    ``[M, 3, H, W]``."""
    blocks = visual.transformer.resblocks
    recorder = AttentionRecorder([blk.attn for blk in blocks])
    try:
        with torch.no_grad():
            visual(frames)
    finally:
        recorder.remove()
    cls = cls_attention(recorder.weights, method)
    grid = int(round(cls.shape[-1]**0.5))
    maps = cls.reshape(-1, 1, grid, grid)
    maps = F.interpolate(
        maps, size=frames.shape[-2:], mode='bilinear', align_corners=False)
    maps = maps.flatten(1)
    low, high = maps.min(1, keepdim=True)[0], maps.max(1, keepdim=True)[0]
    maps = (maps - low) / (high - low).clamp_min(1e-12)
    return maps.reshape(-1, *frames.shape[-2:]).numpy()


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    model = load_model(cfg, args.checkpoint)
    visual = getattr(model.backbone, 'visual', None)
    if not isinstance(visual, VisionTransformer):
        raise TypeError('attention maps need an OpenCLIPVisual backbone with '
                        f'a ViT tower, got {type(model.backbone).__name__}.')
    dataset = build_test_episodes(cfg, args.episode + 1)
    item = dataset[args.episode]
    data = model.data_preprocessor(pseudo_collate([item]), False)
    sample = data['data_samples'][0]
    meta = sample.metainfo
    n, k, q = meta['num_ways'], meta['num_shots'], meta['num_queries']
    if not 0 <= args.way < n:
        raise ValueError(f'--way must be in [0, {n - 1}]')
    support = args.way * k
    query = n * k + args.way * q
    with torch.no_grad():
        sample = model.predict(data['inputs'], [sample])[0]
    pred = int(sample.pred_label[args.way * q])
    names = meta.get('class_names') or [str(c) for c in meta['class_ids']]

    inputs = data['inputs'][0]  # [V, T, 3, H, W], normalised
    raw = item['inputs']  # [V, T, 3, H, W], 0-255 RGB
    rows = [(support, f'CLIP ViT attention ({args.method}), test episode '
             f'{args.episode}. Support: {names[args.way]}'),
            (query, f'query: {names[args.way]} (predicted: {names[pred]})')]
    num_frames = inputs.shape[1]
    fig = plt.figure(figsize=(1.3 * num_frames, 3.4))
    for subfig, (video, title) in zip(fig.subfigures(2, 1), rows):
        heat = frame_heatmaps(visual, inputs[video], args.method)
        frames = raw[video].permute(0, 2, 3, 1).numpy().astype(np.uint8)
        subfig.suptitle(title, fontsize=8, y=0.97)
        axes = subfig.subplots(1, num_frames)
        for t, ax in enumerate(axes):
            ax.imshow(frames[t], interpolation='nearest')
            ax.imshow(heat[t], cmap='jet', alpha=0.45,
                      interpolation='bilinear')
            ax.set_axis_off()
            ax.set_title(f't={t}', fontsize=7, pad=2)
        subfig.subplots_adjust(left=0.01, right=0.99, top=0.72, bottom=0.02,
                               wspace=0.05)
    fig.savefig(args.out, dpi=90)
    plt.close(fig)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
