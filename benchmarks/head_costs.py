# Copyright (c) m2df_mmaction contributors.
"""Costs side by side: parameters, time and peak memory of ONE training
step of every few-shot head, at the shapes of two encoders.

One training step = ``head.loss`` (forward and every loss term) and the
backward of the summed ``loss_*`` terms, train mode, gradients set to None
before (so the step allocates them, as after ``zero_grad``). Episode:
5-way 1-shot, 5 queries per class, T = 8, from
:func:`m2df_mmaction.testing.random_episode`; the frame features (and
MoLo's spatial maps) require gradients, as under a trained encoder; the
text and raw frames do not.

Shapes (``--shapes``):

- ``vit-b16``: CLIP ViT-B/16, frame features D = 512 (projected class
  token), text 512; MoLo's spatial maps are the projected patch tokens,
  512 x 14 x 14 (``open_clip_features``), and its raw frames 3 x 224 x 224,
  so its decoder upsamples x16 (``scale_factors=(2, 2, 4)``; the default
  x32 would need 448 px frames).
- ``rn50-clip``: CLIP RN50, D = 1024, text 1024 (the text heads only).
- ``rn50``: ImageNet ResNet-50, D = 2048; MoLo's ``layer4`` maps
  2048 x 7 x 7 and raw frames 3 x 224 x 224 (its default x32 decoder).
  No text: the text heads (M2DF, CLIP-FSAR) do not run here.

The text heads use the recommended configs' heads
(``configs/_base_/models/{m2df,clip_fsar}_head.py``), the others their
defaults (the official settings), HyRSM and MoLo with 64 training classes,
HyRSM++ = HyRSM + ``TemporalCoherenceLoss`` (window 1, balance 51/10,
weight 0.3). ``MoLo-norecons`` is MoLo with ``loss_recons=None`` (no
decoder, no raw frames): the difference to ``MoLo`` is what the pixel
reconstruction costs.

Measured per head and shape:

- parameters (M), exact;
- time: median of ``--repeats`` steps after 2 warm-ups (synchronised on
  CUDA), ``--threads`` torch threads on CPU;
- peak memory: the peak of the bytes allocated during the step above those
  allocated when it starts (inputs, weights and the head's buffers are not
  counted; activations, the autograd graph, the gradients and everything
  temporary are). On CUDA: ``max_memory_allocated`` after
  ``reset_peak_memory_stats`` minus ``memory_allocated`` before. On CPU:
  one extra step under ``torch.profiler.profile(profile_memory=True)``:
  the running sum of its allocation and free events (torch's CPU
  allocator, in time order) and its maximum. The old gradients are freed
  before that step and garbage collection is off during it: the profiler
  cannot size a free of a block allocated before it started (or, from a
  stale record, sizes it wrongly), which made the figure drift by 1-3 MiB
  between runs when the step freed the old gradients itself. This counts
  tensors, not
  the process: it is exact and repeatable (the same ops allocate the same
  bytes), independent of the load and of malloc's caching, and leaves out
  memory outside torch's allocator (oneDNN scratch, the Python heap).

Usage::

    python benchmarks/head_costs.py [--device cpu|cuda] [--threads 2] \\
        [--repeats 5] [--heads M2DF TRX MoLo ...] \\
        [--shapes vit-b16 rn50-clip rn50] [--json costs.json]
"""
import argparse
import gc
import os
import os.path as osp
import platform
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from bench_common import (environment, markdown_table,  # noqa: E402
                          median_seconds, sync, write_json)
from mmaction.registry import MODELS  # noqa: E402
from mmengine.config import Config  # noqa: E402

import m2df_mmaction  # noqa: F401,E402
from m2df_mmaction.testing import random_episode  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
WAYS, SHOTS, QUERIES, FRAMES, CLASSES = 5, 1, 5, 8, 64
MiB = 2**20

#: name -> (encoder, D, text width or None, MoLo map size, MoLo decoder
#: scale factors to 224 px)
SHAPES = {
    'vit-b16': ('CLIP ViT-B/16', 512, 512, 14, (2, 2, 4)),
    'rn50-clip': ('CLIP RN50', 1024, 1024, 7, (2, 4, 4)),
    'rn50': ('ImageNet ResNet-50', 2048, None, 7, (2, 4, 4)),
}
TEXT_HEADS = ('M2DF', 'CLIP-FSAR')
HEADS = ('M2DF', 'CLIP-FSAR', 'OTAM', 'TRX', 'HyRSM', 'HyRSM++', 'MoLo',
         'MoLo-norecons')
HYRSMPP_LOSS = dict(
    type='TemporalCoherenceLoss',
    window_size=1,
    temporal_balance=51.0,
    balance_coefficient=10.0,
    loss_weight=0.3)


def base_head(name: str) -> dict:
    """A head of the recommended configs (configs/_base_/models)."""
    path = osp.join(ROOT, 'configs', '_base_', 'models', f'{name}.py')
    return Config.fromfile(path)[name].to_dict()


def head_config(name: str, shape: str) -> dict:
    """The config of head ``name`` at ``shape``."""
    _, dim, text, _, scales = SHAPES[shape]
    if name == 'M2DF':
        return dict(base_head('m2df_head'), embed_dims=dim, text_dims=text)
    if name == 'CLIP-FSAR':
        return dict(base_head('clip_fsar_head'), embed_dims=dim,
                    text_dims=text)
    if name == 'OTAM':
        return dict(type='OTAMHead')
    if name == 'TRX':
        return dict(type='TRXHead', embed_dims=dim, num_frames=FRAMES)
    if name in ('HyRSM', 'HyRSM++'):
        cfg = dict(type='HyRSMHead', embed_dims=dim, num_classes=CLASSES)
        if name == 'HyRSM++':
            cfg['loss_temporal'] = dict(HYRSMPP_LOSS)
        return cfg
    if name == 'MoLo-norecons':
        return dict(type='MoLoHead', embed_dims=dim, num_classes=CLASSES,
                    loss_recons=None)
    if name == 'MoLo':
        return dict(type='MoLoHead', embed_dims=dim, num_classes=CLASSES,
                    decoder=dict(type='MoLoMotionDecoder',
                                 scale_factors=scales))
    raise ValueError(f'unknown head {name}; one of {HEADS}')


def applies(name: str, shape: str) -> bool:
    """Text heads need a CLIP text width; the others run at the ViT-B/16
    and ResNet-50 shapes."""
    text = SHAPES[shape][2] is not None
    if name in TEXT_HEADS:
        return text
    return shape != 'rn50-clip'


def episode(name: str, shape: str, device: str):
    """Random episode of one training step of head ``name``."""
    _, dim, text, size, scales = SHAPES[shape]
    feats = random_episode(WAYS, SHOTS, QUERIES, FRAMES, dim,
                           text_dims=text if name in TEXT_HEADS else None,
                           num_classes=CLASSES, device=device)
    feats = feats.replace(support=feats.support.requires_grad_(True),
                          query=feats.query.requires_grad_(True))
    if not name.startswith('MoLo'):
        return feats
    gen = torch.Generator().manual_seed(1)
    pixels = size
    for s in scales:
        pixels *= s

    def extra(videos):
        maps = torch.randn(1, videos, FRAMES, dim, size, size, generator=gen)
        out = dict(spatial=maps.to(device).requires_grad_(True))
        if name == 'MoLo':  # the reconstruction target
            out['raw_frames'] = torch.randn(
                1, videos, FRAMES, 3, pixels, pixels, generator=gen).to(device)
        return out

    return feats.replace(support_extra=extra(WAYS * SHOTS),
                         query_extra=extra(WAYS * QUERIES))


def inputs_note(name: str, shape: str) -> str:
    """What the head reads beyond ``[videos, T, D]``."""
    _, dim, text, size, scales = SHAPES[shape]
    if name in TEXT_HEADS:
        return f'text {text}'
    if name == 'MoLo-norecons':
        return f'maps {dim}x{size}x{size}'
    if name == 'MoLo':
        x = 1
        for s in scales:
            x *= s
        return (f'maps {dim}x{size}x{size}, frames 3x{size * x}x{size * x}, '
                f'decoder x{x}')
    return ''


def peak_step_bytes(step, device: str) -> int:
    """Peak bytes allocated by one call of ``step`` above its start."""
    if torch.device(device).type == 'cuda':
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        step()
        sync(device)
        return torch.cuda.max_memory_allocated(device) - start
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        step()
    events = [(e.start_ns(), e.nbytes())
              for e in prof.profiler.kineto_results.events()
              if e.name() == '[memory]' and e.device_type().name == 'CPU']
    current = peak = 0
    for _, nbytes in sorted(events):
        current += nbytes
        peak = max(peak, current)
    return peak


def measure(name: str, shape: str, args) -> dict:
    torch.manual_seed(0)
    head = MODELS.build(head_config(name, shape)).to(args.device).train()
    feats = episode(name, shape, args.device)
    names = []

    def clear():
        head.zero_grad(set_to_none=True)
        for x in (feats.support, feats.query,
                  *feats.support_extra.values(), *feats.query_extra.values()):
            x.grad = None

    def forward_backward():
        losses = head.loss(feats)
        names[:] = sorted(k for k in losses if k.startswith('loss'))
        sum(losses[k] for k in names).backward()

    def step():
        clear()
        forward_backward()

    seconds = median_seconds(step, args.repeats, 2, args.device)
    clear()  # the old gradients are freed outside the measured step
    gc.collect()
    gc.disable()  # no collection of unrelated garbage inside it
    try:
        peak = peak_step_bytes(forward_backward, args.device)
    finally:
        gc.enable()
    return dict(head=name, shape=shape, encoder=SHAPES[shape][0],
                dim=SHAPES[shape][1], inputs=inputs_note(name, shape),
                params_m=sum(p.numel() for p in head.parameters()) / 1e6,
                train_s=seconds, peak_mib=peak / MiB, losses=names)


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--heads', nargs='+', default=list(HEADS),
                        choices=HEADS)
    parser.add_argument('--shapes', nargs='+', default=list(SHAPES),
                        choices=list(SHAPES))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', help='write the rows to this file')
    return parser.parse_args(argv)


def format_row(row) -> str:
    return (f'{row["head"]} @ {row["shape"]} (D={row["dim"]}): '
            f'{row["params_m"]:.2f} M params, train step '
            f'{1e3 * row["train_s"]:.1f} ms, peak {row["peak_mib"]:.1f} MiB'
            f' ({", ".join(row["losses"])})')


def table(result) -> str:
    header = ['head', 'encoder shape', 'D', 'also reads', 'params (M)',
              'train step ms', 'peak MiB']
    rows = [[r['head'], r['encoder'], r['dim'], r['inputs'] or '-',
             f'{r["params_m"]:.2f}', f'{1e3 * r["train_s"]:.0f}',
             f'{r["peak_mib"]:.1f}'] for r in result['rows']]
    return markdown_table(header, rows)


def run(args) -> dict:
    torch.set_num_threads(args.threads)
    env = dict(environment(args.device), cpu=cpu_name(),
               load_before=os.getloadavg())
    rows = []
    for name in args.heads:
        for shape in args.shapes:
            if not applies(name, shape):
                continue
            rows.append(measure(name, shape, args))
            print(format_row(rows[-1]), flush=True)
    env['load_after'] = os.getloadavg()
    return dict(environment=env, ways=WAYS, shots=SHOTS, queries=QUERIES,
                frames=FRAMES, repeats=args.repeats, rows=rows)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    env = environment(args.device)
    print(f'torch {env["torch"]}, {args.threads} threads, '
          f'{env.get("gpu", cpu_name())}, load {os.getloadavg()}')
    result = run(args)
    print(table(result))
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
