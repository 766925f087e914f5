# Copyright (c) m2df_mmaction contributors.
"""Training episodes/s and peak memory of the benchmark models.

For each architecture, shot count, precision and gradient-checkpointing
setting: the model of the benchmark config (random weights), one 5-way
episode of random frames (5 queries per class, 8 frames, the
architecture's image size) fed through ``model.train_step`` with an MMEngine
optimizer wrapper (Adam; ``bf16``: ``AmpOptimWrapper(dtype='bfloat16')``,
``fp16``: what ``tools/train.py --amp`` gives on CUDA), so a step is
exactly the runner's (on CPU, where MMEngine has no ``AmpOptimWrapper``,
a bf16/fp16 step runs the plain wrapper under ``torch.autocast``): data
preprocessor (host-to-device copy of the uint8
frames, normalisation), backbone, text encoder, head, losses, backward and
Adam step. Data loading is left out (see ``gpu_check.py``'s data-time
share). Prints episodes/s (median step) and the peak of
``torch.cuda.max_memory_allocated`` per setting::

    python benchmarks/train_speed.py --device cuda      # RN50, ViT-B/16
    python benchmarks/train_speed.py --device cpu --steps 2 \\
        --archs tiny-vit tiny-rn --frames 2 --queries 1      # CPU smoke run
"""
import argparse
import os
import os.path as osp
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from bench_common import (environment, episode_sample,  # noqa: E402
                          markdown_table, median_seconds, peak_memory_gib,
                          reset_peak_memory, write_json)
from mmaction.registry import MODELS  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402

import m2df_mmaction  # noqa: F401,E402

# arch key -> (config suffix, open_clip arch for a tiny override or None)
ARCHS = {
    'rn50': ('ssv2_5w1s', None),
    'vit-b16': ('ssv2_5w1s_vit-b16', None),
    'tiny-vit': ('demo_5w1s', 'TinyCLIP-ViT-32'),
    'tiny-rn': ('demo_5w1s', 'TinyCLIP-RN-64'),
}
PRECISIONS = {
    'fp32': dict(type='OptimWrapper'),
    'bf16': dict(type='AmpOptimWrapper', dtype='bfloat16'),
    'fp16': dict(type='AmpOptimWrapper', loss_scale='dynamic'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', default=['m2df'],
                        choices=['m2df', 'clip_fsar'])
    parser.add_argument('--archs', nargs='+', default=['rn50', 'vit-b16'],
                        choices=sorted(ARCHS))
    parser.add_argument('--shots', type=int, nargs='+', default=[1, 5])
    parser.add_argument('--precisions', nargs='+', default=['bf16', 'fp32'],
                        choices=sorted(PRECISIONS))
    parser.add_argument('--cp', nargs='+', default=['off', 'on'],
                        choices=['off', 'on'],
                        help='gradient checkpointing of the visual tower')
    parser.add_argument('--ways', type=int, default=5)
    parser.add_argument('--queries', type=int, default=5)
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--two-episode-peak', action='store_true',
        help='also the peak of one step on a batch of 2 episodes (its '
        'difference to 1 episode is the memory of each more episode)')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--json', help='write the rows to this file')
    return parser.parse_args(argv)


def build_model(method: str, arch: str, device: str):
    suffix, tiny_arch = ARCHS[arch]
    cfg = Config.fromfile(osp.join(ROOT, 'configs', f'{method}_{suffix}.py'))
    model_cfg = cfg.model
    model_cfg.backbone.pretrained = None
    if tiny_arch is not None:
        model_cfg.backbone.arch = tiny_arch
    if model_cfg.get('text_encoder'):
        model_cfg.text_encoder.pretrained = None
        if tiny_arch is not None:
            model_cfg.text_encoder.arch = tiny_arch
    model = MODELS.build(model_cfg).to(device)
    return model.train()


def image_size(model) -> int:
    size = getattr(model.backbone.visual, 'image_size', 224)
    return size[0] if isinstance(size, (tuple, list)) else int(size)


def episode_data(args,
                 shots: int,
                 size: int,
                 device: str,
                 episodes: int = 1) -> dict:
    """A batch of ``episodes`` episodes of random uint8 frames."""
    videos = args.ways * (shots + args.queries)
    frames = torch.randint(
        0, 256, (videos, args.frames, 3, size, size), dtype=torch.uint8)
    if torch.device(device).type == 'cuda':
        frames = frames.pin_memory()
    return dict(
        inputs=[frames] * episodes,
        data_samples=[
            episode_sample(args.ways, shots, args.queries, episode_idx=i)
            for i in range(episodes)
        ])


def measure(model, data, precision: str, with_cp: bool, args) -> dict:
    """Median training step of one setting; ``status`` 'OOM' if it does
    not fit."""
    model.backbone.with_cp = with_cp
    wrapper_cfg = PRECISIONS[precision]
    cpu = torch.device(args.device).type == 'cpu'
    if cpu:  # MMEngine's AmpOptimWrapper refuses the CPU: plain autocast
        wrapper_cfg = dict(type='OptimWrapper')
    wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='Adam', lr=1e-6), **wrapper_cfg))
    autocast = torch.autocast(
        'cpu', dtype=torch.bfloat16, enabled=cpu and precision != 'fp32')

    def step():
        with autocast:
            model.train_step(data, wrapper)

    reset_peak_memory(args.device)
    row = dict(status='ok')
    try:
        seconds = median_seconds(step, args.steps, args.warmup, args.device)
        row.update(
            seconds_per_episode=seconds, episodes_per_second=1 / seconds)
    except torch.cuda.OutOfMemoryError:
        row.update(status='OOM', seconds_per_episode=None,
                   episodes_per_second=None)
    row['peak_memory_gib'] = peak_memory_gib(args.device)
    model.zero_grad(set_to_none=True)
    return row


def two_episode_peak(model, shots, size, precision, with_cp, args):
    """Peak GiB of one step on 2 episodes (None where it does not fit)."""
    data = episode_data(args, shots, size, args.device, episodes=2)
    steps, warmup = args.steps, args.warmup
    args.steps, args.warmup = 1, 1
    try:
        row = measure(model, data, precision, with_cp, args)
    finally:
        args.steps, args.warmup = steps, warmup
    return row['peak_memory_gib'] if row['status'] == 'ok' else None


def run(args) -> dict:
    """All the settings; returns ``dict(environment, rows)``."""
    register_all_modules(init_default_scope=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for method in args.methods:
        for arch in args.archs:
            start = time.perf_counter()
            model = build_model(method, arch, args.device)
            size = image_size(model)
            print(f'{method} {arch}: built in '
                  f'{time.perf_counter() - start:.1f} s, {size} px',
                  flush=True)
            for shots in args.shots:
                data = episode_data(args, shots, size, args.device)
                for precision in args.precisions:
                    for cp in args.cp:
                        row = dict(
                            method=method, arch=arch, shots=shots,
                            ways=args.ways, queries=args.queries,
                            frames_per_episode=args.ways *
                            (shots + args.queries) * args.frames,
                            size=size, precision=precision,
                            with_cp=cp == 'on')
                        row.update(measure(model, data, precision,
                                           cp == 'on', args))
                        if args.two_episode_peak:
                            row['peak_memory_gib_2_episodes'] = \
                                two_episode_peak(model, shots, size,
                                                 precision, cp == 'on', args)
                        rows.append(row)
                        print(format_row(row), flush=True)
            del model
            reset_peak_memory(args.device)
    return dict(environment=environment(args.device), rows=rows)


def format_row(row: dict) -> str:
    speed = '-' if row['episodes_per_second'] is None else \
        f'{row["episodes_per_second"]:.2f}'
    memory = '-' if row['peak_memory_gib'] is None else \
        f'{row["peak_memory_gib"]:.1f}'
    return (f'  {row["method"]} {row["arch"]} 5w{row["shots"]}s '
            f'{row["frames_per_episode"]} frames {row["precision"]} '
            f'cp={"on" if row["with_cp"] else "off"}: {speed} episodes/s, '
            f'peak {memory} GiB ({row["status"]})')


COLUMNS = ['method', 'arch', 'episode', 'frames', 'precision',
           'checkpointing', 'episodes/s', 'peak GiB']


def row_cells(r: dict) -> list:
    """The :data:`COLUMNS` cells of one result row."""
    return [
        r['method'], r['arch'], f'5w{r["shots"]}s', r['frames_per_episode'],
        r['precision'], 'on' if r['with_cp'] else 'off',
        r['status'] if r['episodes_per_second'] is None else
        f'{r["episodes_per_second"]:.2f}',
        '-' if r['peak_memory_gib'] is None else f'{r["peak_memory_gib"]:.1f}'
    ]


def table(result: dict) -> str:
    """Markdown: one row per setting."""
    return markdown_table(COLUMNS, [row_cells(r) for r in result['rows']])


def main(argv=None):
    args = parse_args(argv)
    result = run(args)
    print(table(result))
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
