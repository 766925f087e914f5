# Copyright (c) m2df_mmaction contributors.
"""The GPU check: what users ask (which GPU, how much memory, how long).

Runs, in order, within ``--budget-s`` seconds (a part that would start
after the budget is recorded as skipped):

1. ``train``: training episodes/s and peak memory, RN50 and ViT-B/16,
   5-way 1- and 5-shot (5 queries per class, 8 frames, 224 px), bf16 and
   fp32, with and without gradient checkpointing (``train_speed.py``), and
   the peak at 2 episodes per step, which gives the episodes that fit per
   GPU memory size;
2. ``data``: the data-time share of real training (``tools/train.py`` on
   the 224 px synthetic videos with the benchmark config's own train
   pipeline and ``--workers`` dataloader workers; median ``data_time`` /
   ``time`` of MMEngine's log);
3. ``eval``: plain ``TestLoop`` vs ``CachedEpisodicTestLoop``
   (``eval_speed.py``): the tiny OTAM demo model on the 32 px synthetic
   benchmark at 10,000 episodes, and CLIP-M2DF ViT-B/16 at 1,000 episodes
   of the 224 px one;
4. ``heads``: the M2DF and CLIP-FSAR heads next to the same heads with a
   cell-by-cell OTAM loop (``head_speed.py``), and OTAM alone
   (``otam_speed.py``).

Writes ``summary.json`` (everything, machine-readable) and ``summary.md``
(tables ready for docs/benchmarks.md) to ``--out``; scratch files go to
``--work-dir``. ``--device cpu --tiny`` runs every part on tiny models,
sizes and counts (the CPU smoke test of tests/benchmarks)::

    python benchmarks/gpu_check.py --out OUT --data-224 D224 --data-32 D32
    python benchmarks/gpu_check.py --device cpu --tiny --out OUT \\
        --data-224 D --data-32 D
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
import traceback

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
HERE = osp.dirname(osp.abspath(__file__))
if '--device' in sys.argv and \
        sys.argv[sys.argv.index('--device') + 1:][:1] == ['cpu']:
    os.environ['CUDA_VISIBLE_DEVICES'] = ''  # before torch is imported
os.environ.setdefault('HF_HUB_OFFLINE', '1')
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import torch  # noqa: E402
from bench_common import environment, markdown_table  # noqa: E402

PARTS = ('train', 'data', 'eval', 'heads')
GPU_SIZES_GIB = (16, 24, 40, 48, 80, 94, 141)
DATA_CONFIGS = {  # arch -> benchmark config whose train pipeline is used
    'rn50': 'm2df_ssv2_5w1s.py',
    'vit-b16': 'm2df_ssv2_5w1s_vit-b16.py',
    'tiny-vit': 'm2df_demo_5w1s.py',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True,
                        help='summary.json and summary.md go here')
    parser.add_argument('--work-dir', default=None,
                        help='scratch (default: OUT/work)')
    parser.add_argument('--data-224', required=True,
                        help='synthetic benchmark at 224 px (make_synthetic)')
    parser.add_argument('--data-32', required=True,
                        help='synthetic benchmark at the default size')
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--tiny', action='store_true',
                        help='tiny models, sizes and counts (CPU smoke run)')
    parser.add_argument('--parts', nargs='+', default=list(PARTS),
                        choices=PARTS)
    parser.add_argument('--workers', type=int,
                        default=min(16, os.cpu_count() or 1))
    parser.add_argument('--budget-s', type=float, default=540.0)
    return parser.parse_args(argv)


# --------------------------------------------------------------------- parts
def part_train(args):
    import train_speed
    if args.tiny:
        argv = ['--archs', 'tiny-vit', 'tiny-rn', '--shots', '1', '--steps',
                '1', '--warmup', '1', '--frames', '2', '--queries', '1']
    else:
        argv = ['--steps', '5', '--warmup', '2']
    argv += ['--device', args.device]
    if torch.device(args.device).type == 'cuda':
        argv.append('--two-episode-peak')  # for the episodes that fit
    return train_speed.run(train_speed.parse_args(argv))


def part_data(args):
    archs = ['tiny-vit'] if args.tiny else ['rn50', 'vit-b16']
    iters = 4 if args.tiny else 30
    rows = []
    for arch in archs:
        work = osp.join(args.work_dir, f'data_{arch}')
        cfg = osp.join(args.work_dir, f'data_{arch}.py')
        data = args.data_32 if args.tiny else args.data_224
        write_train_config(cfg, arch, data, iters, args)
        cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg,
               '--work-dir', work, '--no-validate']
        if torch.device(args.device).type == 'cuda':
            cmd += ['--amp', '--cfg-options', 'optim_wrapper.dtype=bfloat16']
        log = osp.join(args.work_dir, f'data_{arch}.log')
        with open(log, 'w') as f:
            subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT,
                           cwd=ROOT)
        rows.append(dict(arch=arch, workers=train_workers(args),
                         **read_scalars(work)))
    return dict(rows=rows)


def train_workers(args) -> int:
    return 0 if args.tiny else args.workers


def write_train_config(path, arch, data, iters, args):
    workers = train_workers(args)
    with open(path, 'w') as f:
        base = osp.join(ROOT, 'configs', DATA_CONFIGS[arch])
        f.write(f"""_base_ = [{base!r}]
model = dict(
    backbone=dict(pretrained=None),
    text_encoder=dict(pretrained=None))
train_dataloader = dict(
    num_workers={workers},
    persistent_workers={workers > 0},
    dataset=dict(
        dataset=dict(
            ann_file={osp.join(data, 'train.txt')!r},
            data_prefix=dict(video={data!r})),
        class_names={osp.join(data, 'train_classes.txt')!r}))
train_cfg = dict(max_iters={iters}, val_interval=10**9)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=10**9, save_last=False))
""")


def read_scalars(work):
    """Median iteration and data time after the warm-up iterations."""
    path = sorted(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')))
    rows = [json.loads(line) for line in open(path[-1])]
    rows = [r for r in rows if 'time' in r and 'data_time' in r]
    timed = rows[len(rows) // 3:] or rows
    step = statistics.median(r['time'] for r in timed)
    data = statistics.median(r['data_time'] for r in timed)
    memory = max((r.get('memory', 0) for r in rows), default=0)
    return dict(iterations=len(timed), seconds_per_episode=step,
                data_seconds=data, data_share=data / step,
                episodes_per_second=1 / step, peak_memory_mb=memory)


def part_eval(args):
    import eval_speed
    runs = []
    tiny_config = osp.join(ROOT, 'configs', 'otam_demo_5w1s.py')
    if args.tiny:
        runs.append(['--config', tiny_config, '--data-root', args.data_32,
                     '--episodes', '40', '--plain-max-episodes', '8',
                     '--workers', '0'])
    else:
        runs.append(['--config', tiny_config, '--data-root', args.data_32,
                     '--episodes', '10000', '--plain-max-episodes', '300',
                     '--workers', '4'])
        runs.append([
            '--config',
            osp.join(ROOT, 'configs', 'm2df_ssv2_5w1s_vit-b16.py'),
            '--data-root', args.data_224, '--episodes', '1000',
            '--plain-max-episodes', '100', '--workers',
            str(args.workers), '--cfg-options',
            'model.backbone.pretrained=None',
            'model.text_encoder.pretrained=None'
        ])
    results = []
    for argv in runs:
        argv += ['--work-dir', osp.join(args.work_dir, 'eval')]
        rows = eval_speed.main(argv)
        results.append(dict(config=osp.basename(argv[1]), rows=rows))
    return dict(runs=results)


def part_heads(args):
    import head_speed
    import otam_speed
    if args.tiny:
        head_argv = ['--dims', '64', '--shots', '1', '--repeats', '1']
        otam_argv = ['--repeats', '1']
    else:
        head_argv, otam_argv = ['--repeats', '20'], ['--repeats', '20']
    device = ['--device', args.device]
    return dict(
        heads=head_speed.run(head_speed.parse_args(head_argv + device)),
        otam=otam_speed.run(otam_speed.parse_args(otam_argv + device)))


# ------------------------------------------------------------------- report
def episodes_that_fit(row):
    """Episodes per step that fit per GPU memory size, from the peaks at 1
    and 2 episodes (allocator peaks; 1 GiB kept for the CUDA context)."""
    one, two = row.get('peak_memory_gib'), row.get(
        'peak_memory_gib_2_episodes')
    if one is None or two is None or two <= one:
        return None
    per_episode, fixed = two - one, 2 * one - two
    return {
        size: max(0, int((size - 1 - fixed) // per_episode))
        for size in GPU_SIZES_GIB
    }


def markdown(summary):
    env = summary['environment']
    out = [f'GPU check: {env.get("gpu", "CPU")} '
           f'({env.get("gpu_memory_gib", "-")} GiB), torch {env["torch"]}, '
           f'CUDA {env.get("cuda", "-")}, {env["cpu_count"]} CPU cores; '
           f'{summary["seconds"]:.0f} s in all.']
    parts = summary['parts']
    train = parts.get('train', {}).get('result')
    if train:
        import train_speed
        rows = []
        for r in train['rows']:
            fit = episodes_that_fit(r)
            rows.append(train_speed.row_cells(r) + [
                '-' if fit is None else
                ' / '.join(str(fit[s]) for s in GPU_SIZES_GIB)
            ])
        out += ['', '### Training: episodes/s and peak memory', '',
                markdown_table(train_speed.COLUMNS + [
                    'episodes/step that fit in ' +
                    ' / '.join(f'{s}' for s in GPU_SIZES_GIB) + ' GiB'
                ], rows)]
    data = parts.get('data', {}).get('result')
    if data:
        out += ['', '### Data-time share of real training (tools/train.py)',
                '', markdown_table(
                    ['arch', 'workers', 'episodes/s', 'data s / episode',
                     'data share', 'peak MB'],
                    [[r['arch'], r['workers'],
                      f'{r["episodes_per_second"]:.2f}',
                      f'{r["data_seconds"]:.3f}',
                      f'{100 * r["data_share"]:.0f}%', r['peak_memory_mb']]
                     for r in data['rows']])]
    ev = parts.get('eval', {}).get('result')
    if ev:
        rows = []
        for run in ev['runs']:
            for r in run['rows']:
                plain = r['plain']
                scale = r['episodes'] / max(r['plain_episodes'], 1)
                rows.append([
                    run['config'], r['episodes'], r['distinct_videos'],
                    f'{plain["seconds"] * scale:.1f}*' if plain else '-',
                    f'{r["cached"]["seconds"]:.2f}',
                    f'{plain["seconds"] * scale / r["cached"]["seconds"]:.1f}x'
                    if plain else '-', f'{r["one_pass_seconds"]:.2f}',
                    f'{r["cached_over_one_pass"]:.2f}x',
                    f'{r["loop_over_one_pass"]:.2f}x'
                ])
        out += ['', '### Evaluation: plain vs cached test loop', '',
                markdown_table([
                    'config', 'episodes', 'distinct videos', 'plain s',
                    'cached s', 'speed-up', 'one encode pass s',
                    'cached / one pass', 'loop / one pass'
                ], rows), '',
                '\\* extrapolated from the plain loop on fewer episodes.']
    heads = parts.get('heads', {}).get('result')
    if heads:
        import head_speed
        import otam_speed
        out += ['', '### Heads next to the cell-by-cell OTAM loop', '',
                head_speed.table(heads['heads']), '',
                otam_speed.table(heads['otam'])]
    for name, part in parts.items():
        if part['status'] != 'ok':
            out += ['', f'Part `{name}`: {part["status"]}'
                    + (f' ({part["error"]})' if part.get('error') else '')]
    return '\n'.join(out)


def main(argv=None):
    args = parse_args(argv)
    args.work_dir = args.work_dir or osp.join(args.out, 'work')
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    start = time.perf_counter()
    summary = dict(environment=environment(args.device), tiny=args.tiny,
                   parts={})
    functions = dict(train=part_train, data=part_data, eval=part_eval,
                     heads=part_heads)
    for name in args.parts:
        elapsed = time.perf_counter() - start
        if elapsed > args.budget_s:
            summary['parts'][name] = dict(
                status=f'skipped: budget of {args.budget_s:.0f} s spent')
            continue
        print(f'\n== gpu_check part {name} (at {elapsed:.0f} s)', flush=True)
        part_start = time.perf_counter()
        try:
            result = functions[name](args)
            summary['parts'][name] = dict(status='ok', result=result)
        except Exception as error:  # keep the other parts' figures
            traceback.print_exc()
            summary['parts'][name] = dict(
                status='failed', error=f'{type(error).__name__}: {error}')
        summary['parts'][name]['seconds'] = time.perf_counter() - part_start
        summary['seconds'] = time.perf_counter() - start
        with open(osp.join(args.out, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=1, default=str)
    summary['seconds'] = time.perf_counter() - start
    with open(osp.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1, default=str)
    text = markdown(summary)
    with open(osp.join(args.out, 'summary.md'), 'w') as f:
        f.write(text + '\n')
    print('\n' + text)
    failed = [n for n, p in summary['parts'].items() if p['status'] != 'ok']
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
