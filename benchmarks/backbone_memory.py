# Copyright (c) m2df_mmaction contributors.
"""Memory and time of one CLIP visual tower forward + backward, with and
without gradient checkpointing (``OpenCLIPVisual(with_cp=True)``).

For each architecture and ``with_cp`` setting, a fresh child process builds
the tower (random weights, train mode, ``frozen_stages`` as given), runs one
warm-up forward + backward (so gradients and allocator pools exist), then
measures a second one on ``--frames`` images:

- peak memory above what was resident before the forward: on CUDA
  ``torch.cuda.max_memory_allocated`` (exact); on CPU the peak resident set
  (``VmHWM`` after resetting it through ``/proc/self/clear_refs``), with
  glibc told to map every buffer over 64 KiB on its own
  (``MALLOC_MMAP_THRESHOLD_``) so that freed tensors leave the resident set;
- the bytes autograd saves for the backward without checkpointing (counted
  by a saved-tensors hook), per frame: the activation count behind the
  memory estimates of docs/benchmarks.md;
- the wall time of the forward + backward (median of ``--repeats``);
- with two or more ``--frames`` counts, a least-squares fit of the peak as
  a constant plus a cost per frame, the basis of the "episodes that fit"
  estimates.

Usage::

    HF_HUB_OFFLINE=1 python benchmarks/backbone_memory.py \\
        --archs TinyCLIP-ViT-32 TinyCLIP-RN-64 --frames 16 64    # seconds
    HF_HUB_OFFLINE=1 python benchmarks/backbone_memory.py \\
        --archs RN50 ViT-B-16 --frames 2 8 [--amp]               # minutes
    python benchmarks/backbone_memory.py --archs RN50 ViT-B-16 \\
        --frames 240 --device cuda --amp --json mem.json         # on a GPU
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

SIZES = {'TinyCLIP-ViT-32': 32, 'TinyCLIP-RN-64': 64}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+',
                        default=['TinyCLIP-ViT-32', 'TinyCLIP-RN-64'])
    parser.add_argument('--frames', type=int, nargs='+', default=[64],
                        help='images per forward (an episode\'s frames); '
                        'two or more counts add a per-frame fit')
    parser.add_argument('--frozen-stages', type=int, default=-1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast (as tools/train.py --amp)')
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--json', help='write the rows to this file')
    parser.add_argument('--child', nargs=2, metavar=('ARCH', 'WITH_CP'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _rss_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def measure(arch: str, with_cp: bool, args) -> dict:
    """One configuration, in this process."""
    import torch
    from mmaction.registry import MODELS

    import m2df_mmaction  # noqa: F401
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = MODELS.build(
        dict(
            type='OpenCLIPVisual',
            arch=arch,
            frozen_stages=args.frozen_stages,
            with_cp=with_cp)).to(device).train()
    size = SIZES.get(arch, model.visual.image_size)
    size = size[0] if isinstance(size, (tuple, list)) else size
    frames = args.frames[0]
    x = torch.randn(frames, 3, size, size, device=device)
    cuda = device.type == 'cuda'
    autocast = torch.autocast(
        device.type, dtype=torch.bfloat16, enabled=args.amp)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def step(count_saved=False):
        saved = {}

        def pack(tensor):
            storage = tensor.untyped_storage()
            if storage.data_ptr() not in params:  # activations only
                saved[storage.data_ptr()] = storage.nbytes()
            return tensor

        params = {p.untyped_storage().data_ptr() for p in model.parameters()}
        hooks = torch.autograd.graph.saved_tensors_hooks(
            pack, lambda t: t) if count_saved else _null()
        with hooks, autocast:
            out = model(x)
        out.float().pow(2).mean().backward()
        return sum(saved.values())

    step()  # warm-up: gradients, allocator pools, kernels
    saved = step(count_saved=True) if not with_cp else None
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset VmHWM to the current RSS
        before = _rss_kib('VmRSS') * 1024
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() if cuda else \
        _rss_kib('VmHWM') * 1024
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return dict(
        arch=arch,
        with_cp=with_cp,
        frames=frames,
        size=size,
        device=device.type,
        amp=args.amp,
        frozen_stages=args.frozen_stages,
        trainable_params=params,
        peak_bytes=peak - before,
        saved_bytes_per_frame=None if saved is None else saved / frames,
        seconds=statistics.median(times),
        memory_measure='cuda max_memory_allocated' if cuda else
        'peak RSS (VmHWM) increase')


class _null:

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run_child(arch: str, with_cp: bool, frames: int, args) -> dict:
    """One configuration in a fresh process (a clean peak)."""
    cmd = [sys.executable, osp.abspath(__file__), '--child', arch,
           str(int(with_cp)), '--frames', str(frames),
           '--frozen-stages', str(args.frozen_stages), '--device',
           args.device, '--repeats', str(args.repeats), '--threads',
           str(args.threads)] + (['--amp'] if args.amp else [])
    # Large CPU buffers straight from mmap and back on free, so that the
    # resident set follows the live tensors (glibc's default threshold
    # adapts and keeps freed activations resident).
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    out = subprocess.run(
        cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit(rows) -> list:
    """Per (arch, with_cp): peak = constant + per_frame * frames, least
    squares over the frame counts measured (two or more)."""
    groups = {}
    for row in rows:
        groups.setdefault((row['arch'], row['with_cp']), []).append(row)
    fits = []
    for (arch, with_cp), group in groups.items():
        if len({r['frames'] for r in group}) < 2:
            continue
        xs = [r['frames'] for r in group]
        ys = [r['peak_bytes'] for r in group]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
            (x - mx)**2 for x in xs)
        fits.append(
            dict(
                arch=arch,
                with_cp=with_cp,
                amp=group[0]['amp'],
                device=group[0]['device'],
                per_frame_bytes=slope,
                constant_bytes=my - slope * mx))
    return fits


def table(rows, fits=()) -> str:
    """Markdown: with and without checkpointing side by side, then the
    per-frame fits."""
    mib = 2**20
    lines = [
        '| arch | frames | device | precision | peak MiB | with_cp peak MiB '
        '| saved | s | with_cp s | saved for backward MiB/frame |',
        '|---|---|---|---|---|---|---|---|---|---|'
    ]
    pairs = {}
    for row in rows:
        pairs.setdefault((row['arch'], row['frames']),
                         {})[row['with_cp']] = row
    for (arch, frames), pair in pairs.items():
        plain, cp = pair.get(False), pair.get(True)
        if plain is None or cp is None:
            continue
        lines.append(
            f'| {arch} | {frames} | {plain["device"]} | '
            f'{"bf16" if plain["amp"] else "fp32"} | '
            f'{plain["peak_bytes"] / mib:.1f} | {cp["peak_bytes"] / mib:.1f} '
            f'| {100 * (1 - cp["peak_bytes"] / plain["peak_bytes"]):.0f}% | '
            f'{plain["seconds"]:.2f} | {cp["seconds"]:.2f} | '
            f'{plain["saved_bytes_per_frame"] / mib:.2f} |')
    if fits:
        lines += [
            '',
            '| arch | precision | with_cp | MiB per frame | constant MiB |',
            '|---|---|---|---|---|'
        ]
        lines += [
            f'| {f["arch"]} | {"bf16" if f["amp"] else "fp32"} | '
            f'{"on" if f["with_cp"] else "off"} | '
            f'{f["per_frame_bytes"] / mib:.1f} | '
            f'{f["constant_bytes"] / mib:.1f} |' for f in fits
        ]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        arch, with_cp = args.child
        print(json.dumps(measure(arch, bool(int(with_cp)), args)))
        return
    rows = [
        run_child(arch, with_cp, frames, args) for arch in args.archs
        for frames in args.frames for with_cp in (False, True)
    ]
    fits = fit(rows)
    print(table(rows, fits))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(rows=rows, fits=fits), f, indent=1)
    return dict(rows=rows, fits=fits)


if __name__ == '__main__':
    main()
