# Copyright (c) m2df_mmaction contributors.
"""What the text tower knows: zero-shot and prompt-selector accuracy on the
novel test classes of the synthetic benchmark, from class names alone.

For 5-way 1-shot test episodes built by ``EpisodicDataset`` with the test
pipeline of ``configs/_base_/datasets/synthetic_5w1s.py`` (the supports are
not used), a tiny CLIP (``--checkpoint FILE``, or ``random`` weights)
embeds each query's frames (``OpenCLIPVisual``) and the episode's class
names (``OpenCLIPText`` with ``--template``), and we report, as the mean
over episodes with its 95% interval (1.96 sd / sqrt(n)):

- **zero-shot**: the query's video embedding (mean of its L2-normalised
  frame embeddings) is classified by its cosine to each class text;
- **selector sample / argmax**: how often the project's
  ``ProbabilityPromptSelector`` (top_k 4, temperature 200) picks the
  query's true class as its prompt, in ``'sample'`` mode (one categorical
  draw per query, seeded per episode) and in ``'argmax'`` mode.

Chance is 1 / 5 for all three. Examples::

    python benchmarks/text_probe.py                       # shipped + random
    python benchmarks/text_probe.py --checkpoint \
        work_dirs/tiny_clip_world/tiny_clip_world.pth random
    python benchmarks/text_probe.py --checkpoint random --episodes 500

Needs ``data/synthetic`` (``python tools/data/make_synthetic.py``). Prints
figures only; 2,000 episodes take about a minute on 2 CPU cores.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmaction.registry import DATASETS  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402

import m2df_mmaction  # noqa: F401,E402
from m2df_mmaction.models.backbones import OpenCLIPVisual  # noqa: E402
from m2df_mmaction.models.layers import ProbabilityPromptSelector  # noqa
from m2df_mmaction.models.text import OpenCLIPText  # noqa: E402
from m2df_mmaction.synthetic.captions import CLASS_TEMPLATE  # noqa: E402

SHIPPED = osp.join(ROOT, 'm2df_mmaction', 'synthetic', 'weights',
                   'tiny_clip_world.pth')
DATASET_CFG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                       'synthetic_5w1s.py')
PREPROCESSOR_CFG = osp.join(ROOT, 'configs', '_base_', 'models',
                            'clip_preprocessor.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--checkpoint', nargs='+', default=[SHIPPED, 'random'],
                   help="tiny CLIP checkpoint file(s), or 'random'")
    p.add_argument('--arch', default='TinyCLIP-ViT-32')
    p.add_argument('--template', default=CLASS_TEMPLATE,
                   help='text template of class names')
    p.add_argument('--data-root', default=osp.join(ROOT, 'data',
                                                   'synthetic'))
    p.add_argument('--episodes', type=int, default=2000)
    p.add_argument('--episodes-seed', type=int, default=None,
                   help="default: the config's test episodes seed")
    p.add_argument('--split', default='test',
                   choices=('train', 'val', 'test'))
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--per-class', action='store_true',
                   help='also print zero-shot accuracy per class')
    return p.parse_args(argv)


def build_dataset(data_root: str, split: str, episodes: int,
                  seed: Optional[int]):
    """The config's test-split EpisodicDataset (``split`` swapped in)."""
    cfg = Config.fromfile(DATASET_CFG)
    ds = cfg.test_dataloader.dataset.copy()
    ds.dataset.ann_file = osp.join(data_root, f'{split}.txt')
    ds.dataset.data_prefix = dict(video=data_root)
    ds.class_names = osp.join(data_root, f'{split}_classes.txt')
    ds.num_episodes = episodes
    if seed is not None:
        ds.episodes_seed = seed
    return DATASETS.build(ds)


def pixel_stats():
    cfg = Config.fromfile(PREPROCESSOR_CFG).data_preprocessor
    mean = torch.tensor(cfg.mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, dtype=torch.float32).view(1, 3, 1, 1)
    return mean, std


def mean_ci(values: np.ndarray) -> str:
    m = 100 * values.mean()
    ci = 100 * 1.96 * values.std() / np.sqrt(len(values))
    return f'{m:6.2f} ± {ci:4.2f}'


@torch.no_grad()
def probe(checkpoint: str, args: argparse.Namespace, dataset,
          videos: Dict[int, torch.Tensor]) -> Dict[str, np.ndarray]:
    """Per-episode accuracies of one checkpoint (``'random'``: none)."""
    pretrained = None if checkpoint == 'random' else checkpoint
    torch.manual_seed(0)  # the random towers are the same every run
    visual = OpenCLIPVisual(arch=args.arch, pretrained=pretrained).eval()
    text = OpenCLIPText(arch=args.arch, pretrained=pretrained,
                        template=args.template)
    visual.init_weights()  # the pretrained weights load here
    text.init_weights()
    mean, std = pixel_stats()
    index = sorted(videos)
    x = torch.stack([videos[i] for i in index])  # [V, T, 3, H, W] uint8
    num_frames = x.size(1)
    x = x.flatten(0, 1)
    frames = torch.cat([
        visual((x[i:i + 512].float() - mean) / std)
        for i in range(0, len(x), 512)
    ]).view(len(index), num_frames, -1)  # [V, T, D]
    row = {v: r for r, v in enumerate(index)}
    names = dataset.class_names
    class_text = text(names)  # [C, D]
    selectors = {
        mode: ProbabilityPromptSelector(top_k=4, temperature=200.0,
                                        mode=mode).eval()
        for mode in ('sample', 'argmax')
    }
    out = {k: [] for k in ('zero_shot', 'sample', 'argmax')}
    per_class = np.zeros((len(names), 2))
    for e in range(len(dataset)):
        ep = dataset.sample_episode(e)
        q = [row[int(i)] for i in ep['query']]
        labels = torch.arange(dataset.num_ways).repeat_interleave(
            dataset.num_queries)
        feats = frames[q]  # [NQ, T, D]
        txt = class_text[torch.as_tensor(ep['class_ids'])]  # [N, D]
        video = F.normalize(F.normalize(feats, dim=-1).mean(1), dim=-1)
        pred = (video @ F.normalize(txt, dim=-1).T).argmax(1)
        hit = (pred == labels).numpy()
        out['zero_shot'].append(hit.mean())
        np.add.at(per_class, (ep['class_ids'][labels.numpy()], 0), hit)
        np.add.at(per_class, (ep['class_ids'][labels.numpy()], 1), 1)
        torch.manual_seed(1000003 * (dataset.episodes_seed + 1) + e)
        for mode, sel in selectors.items():
            index_ = sel(feats[None], txt[None]).index[0]
            out[mode].append((index_ == labels).float().mean().item())
    res = {k: np.array(v) for k, v in out.items()}
    res['per_class'] = per_class[:, 0] / np.maximum(per_class[:, 1], 1)
    return res


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=True)
    if not osp.isfile(osp.join(args.data_root, f'{args.split}.txt')):
        print(f'error: no {args.split}.txt in {args.data_root}; run '
              f'tools/data/make_synthetic.py first', file=sys.stderr)
        return 1
    for ckpt in args.checkpoint:
        if ckpt != 'random' and not osp.isfile(ckpt):
            print(f'error: checkpoint {ckpt} not found', file=sys.stderr)
            return 1
    dataset = build_dataset(args.data_root, args.split, args.episodes,
                            args.episodes_seed)
    t0 = time.time()
    needed = sorted({int(i) for e in range(len(dataset))
                     for i in dataset.sample_episode(e)['query']})
    videos = {i: dataset.load_video(i) for i in needed}
    print(f'{args.split} split of {args.data_root}: '
          f'{len(dataset.class_names)} classes, {len(dataset)} episodes '
          f'(5-way, {dataset.num_queries} query per class, seed '
          f'{dataset.episodes_seed}), {len(videos)} query videos decoded '
          f'in {time.time() - t0:.1f} s; template {args.template!r}; '
          f'chance 20%')
    print(f'{"checkpoint":42s} {"zero-shot %":>15s} '
          f'{"selector sample %":>18s} {"selector argmax %":>18s}')
    for ckpt in args.checkpoint:
        t0 = time.time()
        res = probe(ckpt, args, dataset, videos)
        label = ckpt if len(ckpt) <= 42 else '...' + ckpt[-39:]
        print(f'{label:42s} {mean_ci(res["zero_shot"]):>15s} '
              f'{mean_ci(res["sample"]):>18s} '
              f'{mean_ci(res["argmax"]):>18s}   ({time.time() - t0:.0f} s)')
        if args.per_class:
            for name, acc in zip(dataset.class_names, res['per_class']):
                print(f'    {name:40s} {100 * acc:6.1f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
