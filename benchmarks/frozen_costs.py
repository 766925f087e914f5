# Copyright (c) m2df_mmaction contributors.
"""What the frozen generation buys: trainable parameters, peak training
memory and time of one training episode of CLIP-FSAR (full fine-tune),
CLIP-M2DF (full fine-tune), D2ST-Adapter (frozen CLIP + adapters) and
TS-FSAR (frozen CLIP run without a graph + a side network), with and
without gradient checkpointing (``model.backbone.with_cp``).

Each (config, ``with_cp``) runs in a fresh child process, as
``backbone_memory.py`` measures a tower: the config's full model
(``MODELS.build(cfg.model)``; random weights: every ``pretrained`` set to
None, ``model.backbone.with_cp`` set; ``--init-weights`` also calls
``model.init_weights()``, e.g. TS-FSAR's PCA init of the side network from
the random tower, which takes minutes on 2 cores and changes no cost),
train mode, episodes of random uint8 frames (8 frames, the tower's 224 px)
laid out as :class:`EpisodicDataset` writes them
(``bench_common.episode_sample``; 1 shot and 1 query per class, so ``V``
videos are ``V / 2`` ways, of a pretend split with as many classes as the
head's classifier, else 64). One training step is what
``model.train_step`` runs before the optimizer: the data preprocessor,
``model(mode='loss')`` (encoders, head, every loss term),
``parse_losses`` and the backward. TS-FSAR reads its class descriptions
from a temporary file in the official format (``{class: [sentences]}``,
one sentence per class: the text embeddings are cached after the
warm-up, so more sentences would only lengthen it).

A warm-up step on the smallest episode (gradients, kernels, the text
cache) comes first. Before each measured step the gradients are set to
None (as ``optimizer.zero_grad()``), so the step allocates them again.
Measured, per episode size:

- the bytes autograd keeps for the backward (a saved-tensors hook;
  activations, parameters excluded), split into those saved inside the
  CLIP visual tower's own modules (stem, the blocks' norms, attention and
  MLPs, ``ln_post``; adapters hooked onto whole blocks and the side
  network are outside) and the rest; with checkpointing, what the
  checkpointed segments keep is not seen; how many tower blocks put their
  output in the autograd graph (0: no gradient goes through the tower)
  and which tower parameters got a gradient;
- peak memory above the resident set before the step: ``VmHWM`` after
  resetting it (``/proc/self/clear_refs``), with glibc told to map every
  buffer over 64 KiB on its own (``MALLOC_MMAP_THRESHOLD_``) so that freed
  tensors leave the resident set; on CUDA ``max_memory_allocated`` above
  ``memory_allocated``;
- the wall time of the step, with the CPU time that other processes used
  meanwhile (``/proc/stat`` minus this process), so a reader knows whether
  the machine was quiet;
- parameters (all, trainable), the Adam/AdamW state the trainable ones
  need (2 floats each; every one of these configs trains with Adam or
  AdamW).

The sizes of one (config, ``with_cp``) are measured in one child, in
increasing order after one warm-up step on the smallest (``--fresh``: one
child per size, each with its own warm-up; on the tiny demo configs the
two ways agree to 1-3 MiB).

With two or more episode sizes, peak and time are fitted (least squares,
``backbone_memory.fit``) as a constant plus a cost per video, and given at
10 videos (5-way 1-shot, 1 query per class) and 30 (5-way 1-shot, 5
queries per class: TS-FSAR's official training episode); "training MiB"
adds the weights and the Adam state to the fitted step peak. Then
(``--validate auto``, the default) each config whose fit says that 10
videos take under ``--validate-max-gib`` and ``--validate-max-s`` is also
measured directly at 10 videos (checkpointing off), to check the fit.

Usage::

    HF_HUB_OFFLINE=1 python benchmarks/frozen_costs.py \\
        --json frozen_costs.json          # ViT-B/16, ~40 min on 2 CPU cores
    HF_HUB_OFFLINE=1 python benchmarks/frozen_costs.py --configs \\
        clip_fsar_demo_5w1s.py d2st_demo_5w1s.py tsfsar_demo_5w1s.py \\
        --videos 4 6 --with-cp 0 1        # tiny CLIP, ~2 min
    python benchmarks/frozen_costs.py --device cuda --videos 10 30 \\
        --json frozen_costs_gpu.json      # on a GPU: 10 and 30 measured
"""
import argparse
import gc
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from backbone_memory import _rss_kib  # noqa: E402
from frozen_costs_probe import TowerProbe  # noqa: E402
from frozen_costs_report import fits, format_row, table  # noqa: E402

CONFIGS = ('clip_fsar_ssv2_5w1s_vit-b16.py', 'm2df_ssv2_5w1s_vit-b16.py',
           'd2st_ssv2_5w1s_vit-b16.py', 'tsfsar_ssv2_5w1s_vit-b16.py')
#: Short names of the methods, by config prefix.
METHODS = dict(clip_fsar='CLIP-FSAR', m2df='CLIP-M2DF', d2st='D2ST-Adapter',
               tsfsar='TS-FSAR')
SHOTS, QUERIES, CLASSES = 1, 1, 64


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', nargs='+', default=list(CONFIGS),
                        help='configs (names under configs/ or paths)')
    parser.add_argument('--videos', type=int, nargs='+', default=[4, 6],
                        help='episode sizes V (even: V/2 ways, 1 shot, 1 '
                        'query per class); two or more add a per-video fit')
    parser.add_argument('--with-cp', type=int, nargs='+', choices=[0, 1],
                        default=[0, 1], help='gradient checkpointing off (0) '
                        'and/or on (1)')
    parser.add_argument('--validate', nargs='*', metavar='CONFIG',
                        default=['auto'],
                        help='also measure these configs directly at '
                        '--validate-videos (checkpointing off) to check the '
                        "fit; 'auto' (default): those whose fitted peak and "
                        'time there are under --validate-max-gib and '
                        '--validate-max-s; none given: no check')
    parser.add_argument('--validate-videos', type=int, default=10)
    parser.add_argument('--validate-max-gib', type=float, default=10.0)
    parser.add_argument('--validate-max-s', type=float, default=180.0)
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument('--fresh', action='store_true',
                        help='one process per episode size (default: one '
                        'per config and checkpointing, measuring the sizes '
                        'in increasing order after one warm-up)')
    parser.add_argument('--warmup-videos', type=int, default=None,
                        help='episode size of the warm-up step (default: '
                        'the smallest of --videos)')
    parser.add_argument('--init-weights', action='store_true',
                        help='call model.init_weights() (TS-FSAR: the PCA '
                        'init of the side network from the random tower, '
                        'minutes on 2 cores; the costs do not depend on it)')
    parser.add_argument('--from-json', metavar='PATH',
                        help='print the tables of an earlier --json file '
                        'and exit (no measurement)')
    parser.add_argument('--child', nargs=3,
                        metavar=('CONFIG', 'WITH_CP', 'VIDEOS'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warmup_videos is None:
        args.warmup_videos = min(args.videos)
    for v in args.videos + [args.validate_videos, args.warmup_videos]:
        if v < 4 or v % 2:
            parser.error(f'--videos: {v} is not an episode of 1 shot and 1 '
                         'query per class of 2 or more ways (4, 6, 8, ...)')
    return args


def config_path(name: str) -> str:
    return name if osp.isfile(name) else osp.join(ROOT, 'configs', name)


def method_name(config: str) -> str:
    base = osp.basename(config)
    for prefix, name in METHODS.items():
        if base.startswith(prefix + '_'):
            return name
    return base


# ---------------------------------------------------------------------------
# the child: one configuration, in this process
# ---------------------------------------------------------------------------
def _cpu_busy_seconds() -> float:
    """CPU seconds all processes have been busy (``/proc/stat``)."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    busy = fields[0] + fields[1] + fields[2] + sum(fields[5:8])
    return busy / os.sysconf('SC_CLK_TCK')


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def build_model(config: str, with_cp: bool, description_file: str, device,
                init_weights: bool = False):
    """The config's model with random weights, train mode."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.config import Config

    import m2df_mmaction  # noqa: F401
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config_path(config))
    model_cfg = cfg.model
    model_cfg.backbone.pretrained = None
    model_cfg.backbone.with_cp = bool(with_cp)
    if model_cfg.get('text_encoder'):
        model_cfg.text_encoder.pretrained = None
        if model_cfg.text_encoder.get('descriptions'):
            model_cfg.text_encoder.descriptions = [description_file]
    model = MODELS.build(model_cfg)
    if init_weights:  # TS-FSAR: PCA init of the side from the tower
        model.init_weights()
    return model.to(device).train()


def write_descriptions(path: str) -> None:
    """Class descriptions of the pretend split in the official format."""
    from bench_common import episode_sample
    # more names than any head's training classes (the split's names are
    # the first ``num_classes`` of them)
    names = episode_sample(2, 1, 1, num_classes=4 * CLASSES).all_class_names
    data = {
        # one sentence each: the embeddings are cached after the warm-up,
        # so more sentences would only make the warm-up longer
        name: [f'A person is doing {name} with a cup.']
        for name in names
    }
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f)


def measure(config: str, with_cp: bool, sizes, args) -> list:
    """One configuration at each episode size of ``sizes`` (in increasing
    order, after one warm-up step), in this process; one row per size."""
    import torch
    from bench_common import episode_sample
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    cuda = device.type == 'cuda'
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        descriptions = osp.join(tmp, 'class_descriptions.json')
        write_descriptions(descriptions)
        model = build_model(config, with_cp, descriptions, device,
                            args.init_weights)
        build_s = time.perf_counter() - start
        # the pretend split: as many classes as the head's classifiers
        classes = getattr(model.cls_head, 'num_classes', None) or CLASSES
        size = model.backbone.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else int(size)

        def episode(videos):
            frames = torch.randint(
                0, 256, (videos, args.frames, 3, size, size),
                dtype=torch.uint8)
            return dict(
                inputs=[frames],
                data_samples=[
                    episode_sample(videos // (SHOTS + QUERIES), SHOTS,
                                   QUERIES, num_classes=classes)
                ])

        def sync():
            if cuda:
                torch.cuda.synchronize(device)

        def step(data):
            batch = model.data_preprocessor(data, True)
            losses = model(**batch, mode='loss')
            loss, _ = model.parse_losses(losses)
            loss.backward()

        # warm-up (the smallest episode): gradients, kernels, the text cache
        start = time.perf_counter()
        step(episode(args.warmup_videos))
        sync()
        warmup_s = time.perf_counter() - start
        rows = []
        for videos in sorted(sizes):
            model.zero_grad(set_to_none=True)  # as optimizer.zero_grad()
            data = episode(videos)
            probe = TowerProbe(model)
            gc.collect()
            sync()
            if cuda:
                torch.cuda.reset_peak_memory_stats(device)
                before = torch.cuda.memory_allocated(device)
            else:
                with open('/proc/self/clear_refs', 'w') as f:
                    f.write('5')  # reset VmHWM to the current RSS
                before = _rss_kib('VmRSS') * 1024
            busy0, own0 = _cpu_busy_seconds(), _own_cpu_seconds()
            start = time.perf_counter()
            with probe.saved_tensors():
                step(data)
            sync()
            seconds = time.perf_counter() - start
            busy1, own1 = _cpu_busy_seconds(), _own_cpu_seconds()
            peak = torch.cuda.max_memory_allocated(device) if cuda else \
                _rss_kib('VmHWM') * 1024
            probe.remove()
            del data
            tower_params = list(model.backbone.visual.parameters())
            text = getattr(model, 'text_encoder', None)
            others = max(0.0, (busy1 - busy0) - (own1 - own0))
            rows.append(
                dict(
                    videos=videos,
                    ways=videos // (SHOTS + QUERIES),
                    measured_after=[r['videos'] for r in rows],
                    tower_params=len(tower_params),
                    tower_params_with_grad=sum(p.grad is not None
                                               for p in tower_params),
                    text_params_with_grad=0 if text is None else sum(
                        p.grad is not None for p in text.parameters()),
                    tower_blocks=probe.num_blocks,
                    tower_block_outputs_in_graph=probe.
                    block_outputs_in_graph,
                    saved_bytes_tower=sum(probe.tower.values()),
                    saved_bytes_other=sum(probe.other.values()),
                    baseline_bytes=before,
                    peak_bytes=peak - before,
                    seconds=seconds,
                    own_cpu_seconds=own1 - own0,
                    others_cpu_seconds=others,
                    others_cores=others / seconds))
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    tower_params = list(model.backbone.visual.parameters())
    common = dict(
        config=config,
        method=method_name(config),
        with_cp=with_cp,
        warmup_videos=args.warmup_videos,
        shots=SHOTS,
        queries=QUERIES,
        frames=args.frames,
        size=size,
        classes=classes,
        device=device.type,
        threads=args.threads,
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in trainable),
        weight_bytes=sum(p.numel() * p.element_size() for p in params),
        adam_state_bytes=2 * sum(p.numel() * p.element_size()
                                 for p in trainable),
        tower_trainable_params=sum(p.numel() for p in tower_params
                                   if p.requires_grad),
        warmup_seconds=warmup_s,
        build_seconds=build_s,
        memory_measure='cuda max_memory_allocated' if cuda else
        'peak RSS (VmHWM) increase')
    return [dict(common, **row) for row in rows]


# ---------------------------------------------------------------------------
# the parent: children, fits, table
# ---------------------------------------------------------------------------
def loadavg() -> list:
    with open('/proc/loadavg') as f:
        return [float(x) for x in f.read().split()[:3]]


def run_child(config: str, with_cp: bool, sizes, args) -> list:
    """One configuration in a fresh process (a clean peak), at each size
    of ``sizes`` in turn."""
    cmd = [sys.executable, osp.abspath(__file__), '--child', config,
           str(int(with_cp)), ','.join(str(v) for v in sizes),
           '--frames', str(args.frames),
           '--warmup-videos', str(args.warmup_videos),
           '--device', args.device, '--threads', str(args.threads)] + \
        (['--init-weights'] if args.init_weights else [])
    # as backbone_memory.py: freed buffers leave the resident set
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    load = loadavg()
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise RuntimeError(f'{config} with_cp={with_cp} V={sizes} failed '
                           f'(exit {out.returncode})')
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    for row in rows:
        row.update(loadavg_before=load, loadavg_after=loadavg(),
                   child_seconds=time.perf_counter() - start)
        print(format_row(row), flush=True)
    return rows


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        config, with_cp, sizes = args.child
        print(json.dumps(measure(config, bool(int(with_cp)),
                                 [int(v) for v in sizes.split(',')], args)))
        return
    if args.from_json:
        with open(args.from_json) as f:
            result = json.load(f)
        print(table(result))
        return result
    start = time.perf_counter()
    started = time.strftime('%Y-%m-%d %H:%M:%S')
    load_start = loadavg()
    print(f'start {started}, load average {load_start}', flush=True)
    if args.fresh:
        groups = [[v] for v in sorted(args.videos)]
    else:
        groups = [sorted(args.videos)]
    rows = [
        row for config in args.configs for cp in args.with_cp
        for sizes in groups
        for row in run_child(config, bool(cp), sizes, args)
    ]
    fitted = fits(rows)
    names = list(args.validate)
    if 'auto' in names:
        names.remove('auto')
        names += [
            f['config'] for f in fitted if not f['with_cp'] and
            f['peak_bytes_constant'] +
            f['peak_bytes_per_video'] * args.validate_videos <
            args.validate_max_gib * 2**30 and f['seconds_constant'] +
            f['seconds_per_video'] * args.validate_videos <
            args.validate_max_s
        ]
    if args.validate_videos not in args.videos:
        for config in dict.fromkeys(names):
            row, = run_child(config, False, [args.validate_videos], args)
            row['validation'] = True
            rows.append(row)
    import torch
    from bench_common import environment
    torch.set_num_threads(args.threads)
    result = dict(
        environment=environment(args.device),
        started=started,
        loadavg_start=load_start,
        loadavg_end=loadavg(),
        total_seconds=time.perf_counter() - start,
        rows=rows,
        fits=fitted)
    print(table(result))
    print(f'total {result["total_seconds"] / 60:.1f} min; load average at '
          f'start {load_start}, at end {result["loadavg_end"]}; other '
          'processes used ' + ', '.join(
              f'{r["others_cores"]:.1f}' for r in rows) +
          ' cores during the measured steps')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
