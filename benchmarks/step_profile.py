# Copyright (c) m2df_mmaction contributors.
"""Where one M2DF training step spends its time.

Splits a 5-way K-shot training step (batch of one episode) into data loading
(decode + pipeline + collate + preprocessor), backbone forward, text
encoder, head forward, losses, backward and optimizer step, with wall-clock
timers (synchronised on GPU), and prints the head+losses share. Random
weights; synthetic videos (``data/synthetic``)::

    HF_HUB_OFFLINE=1 python benchmarks/step_profile.py --arch tiny
    HF_HUB_OFFLINE=1 python benchmarks/step_profile.py --arch vit-b16 \
        --size 224 --frames 8 --queries 5 [--amp] [--device cuda]

``--arch vit-b16`` uses the benchmark head (``m2df_ssv2_5w1s_vit-b16.py``,
D = 512); ``tiny`` the CPU demo's (``m2df_demo_5w1s.py``, D = 64).
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402
from mmaction.registry import DATASETS, MODELS  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402

import m2df_mmaction  # noqa: F401,E402

CONFIGS = dict(
    tiny='m2df_demo_5w1s.py', **{'vit-b16': 'm2df_ssv2_5w1s_vit-b16.py'})


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(CONFIGS), default='tiny')
    parser.add_argument('--size', type=int, default=None,
                        help='frame size (default 32 tiny, 224 vit-b16)')
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--ways', type=int, default=5)
    parser.add_argument('--shots', type=int, default=1)
    parser.add_argument('--queries', type=int, default=5)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data',
                                                        'synthetic'))
    return parser.parse_args()


class Timers:
    """Named wall-clock timers, synchronised on CUDA."""

    def __init__(self, device):
        self.cuda = torch.device(device).type == 'cuda'
        self.times = defaultdict(list)

    @contextmanager
    def __call__(self, name):
        if self.cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        yield
        if self.cuda:
            torch.cuda.synchronize()
        self.times[name].append(time.perf_counter() - start)


def build(args):
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', CONFIGS[args.arch]))
    cfg.model.backbone.pretrained = None
    if cfg.model.get('text_encoder'):
        cfg.model.text_encoder.pretrained = None
    model = MODELS.build(cfg.model).to(args.device)
    model.train()
    size = args.size or (32 if args.arch == 'tiny' else 224)
    data = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'synthetic_5w1s.py'))
    episodic = data.train_dataloader.dataset
    root = args.data_root
    episodic.class_names = f'{root}/train_classes.txt'
    episodic.dataset.ann_file = f'{root}/train.txt'
    episodic.dataset.data_prefix = dict(video=root)
    episodic.num_ways, episodic.num_shots = args.ways, args.shots
    episodic.num_queries = args.queries
    for transform in episodic.dataset.pipeline:
        if transform['type'] == 'SampleFrames':
            transform['num_clips'] = args.frames
        if transform['type'] == 'Resize':
            transform['scale'] = (size, size)
    dataset = DATASETS.build(episodic)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    return model, dataset, optimizer, size


def step(model, dataset, optimizer, index, timers, amp):
    device = next(model.parameters()).device
    autocast = torch.autocast(device.type, enabled=amp,
                              dtype=torch.bfloat16 if device.type == 'cpu'
                              else torch.float16)
    with timers('data loading'):
        batch = pseudo_collate([dataset[index]])
        batch = model.data_preprocessor(batch, True)
    inputs, samples = batch['inputs'], batch['data_samples']
    head = model.cls_head
    with autocast:
        with timers('backbone forward'):
            b, v, t = inputs.shape[:3]
            frames = model.encode_frames(inputs.flatten(0, 2))
            frames = frames.view(b, v, t, -1)
        with timers('text encoder'):  # and the episode's split, labels
            feats = model.build_episode(frames, samples)
        with timers('head forward'):
            outputs = head(feats)
        with timers('losses'):
            losses = head.loss_by_feat(outputs, feats)
            loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    with timers('backward'):
        loss.backward()
    with timers('optimizer step'):
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    # the head alone, forward + losses + backward, on detached features
    feats = feats.replace(
        support=feats.support.detach().requires_grad_(True),
        query=feats.query.detach().requires_grad_(True))
    with timers('(head fwd+losses+bwd alone)'):
        with autocast:
            sum(v for k, v in head.loss(feats).items()
                if k.startswith('loss')).backward()
    optimizer.zero_grad(set_to_none=True)


def main():
    args = parse_args()
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 2)))
    model, dataset, optimizer, size = build(args)
    timers = Timers(args.device)
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            timers.times.clear()
        step(model, dataset, optimizer, i, timers, args.amp)
    if args.device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated() / 2**30
    videos = args.ways * (args.shots + args.queries)
    print(f'\narch {args.arch}, {size} px, {args.frames} frames, '
          f'{args.ways}-way {args.shots}-shot {args.queries} queries/class '
          f'({videos} videos, {videos * args.frames} frames), device '
          f'{args.device}, amp {args.amp}, threads '
          f'{torch.get_num_threads()}, median of {args.steps} steps')
    medians = {k: statistics.median(v) for k, v in timers.times.items()}
    total = sum(v for k, v in medians.items() if not k.startswith('('))
    for name, value in medians.items():
        share = '' if name.startswith('(') else \
            f'{100 * value / total:6.1f}%'
        print(f'  {name:<30} {1000 * value:10.1f} ms {share}')
    print(f'  {"step total":<30} {1000 * total:10.1f} ms')
    head_share = medians['head forward'] + medians['losses']
    print(f'head forward + losses: {100 * head_share / total:.1f}% of the '
          f'step; head fwd+losses+bwd alone: '
          f'{100 * medians["(head fwd+losses+bwd alone)"] / total:.1f}%')
    if args.device.startswith('cuda'):
        print(f'peak GPU memory: {peak:.2f} GiB')


if __name__ == '__main__':
    main()
