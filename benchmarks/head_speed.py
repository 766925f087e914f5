# Copyright (c) m2df_mmaction contributors.
"""Time the M2DF and CLIP-FSAR heads on random features (CPU or GPU).

The shapes of ../shared/notes/official_heads.md: 5-way, 5 queries per class
in training, T = 8, D in {512, 1024}, 1 and 5 shots; forward + losses +
backward (train mode) and forward alone (eval mode, no grad); median of
``--repeats`` runs after 3 warm-ups. The official heads measured 187 ms
(M2DF, D=512, 1-shot, fwd+bwd) to 643 ms (D=1024, 5-shot) on 2 threads.

    python benchmarks/head_speed.py [--threads 2] [--repeats 20]
"""
import argparse
import statistics
import time

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

import m2df_mmaction  # noqa: F401


def episode(ways, shots, queries, frames, dim):
    feats = dict(
        support=torch.randn(1, ways * shots, frames, dim, requires_grad=True),
        query=torch.randn(1, ways * queries, frames, dim, requires_grad=True),
        text=torch.randn(1, ways, dim),
        class_text=torch.randn(64, dim))
    sample = ActionDataSample()
    sample.set_gt_label(torch.arange(ways).repeat_interleave(queries))
    sample.set_metainfo(
        dict(
            num_ways=ways,
            num_shots=shots,
            num_queries=queries,
            episode_idx=0,
            class_ids=list(range(ways))))
    return feats, [sample]


def median_ms(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f'torch {torch.__version__}, {args.threads} threads, CPU')
    print('| head | D | shot | params (M) | train fwd+loss+bwd ms | '
          'eval fwd ms |')
    print('|---|---|---|---|---|---|')
    for head_type in ('M2DFHead', 'CLIPFSARHead'):
        for dim in (512, 1024):
            for shots in (1, 5):
                cfg = dict(type=head_type, embed_dims=dim)
                if head_type == 'CLIPFSARHead':
                    cfg['merge_before'] = shots > 1
                head = MODELS.build(cfg)
                params = sum(p.numel() for p in head.parameters()) / 1e6
                feats, samples = episode(5, shots, 5, 8, dim)

                def train_step():
                    head.train()
                    head.zero_grad(set_to_none=True)
                    losses = head.loss(feats, samples)
                    sum(v for k, v in losses.items() if 'loss' in k).backward()

                test_feats, test_samples = episode(5, shots, 1, 8, dim)

                @torch.no_grad()
                def eval_step():
                    head.eval()
                    head.predict(test_feats, test_samples)

                print(f'| {head_type} | {dim} | {shots} | {params:.2f} | '
                      f'{median_ms(train_step, args.repeats):.1f} | '
                      f'{median_ms(eval_step, args.repeats):.1f} |')


if __name__ == '__main__':
    main()
