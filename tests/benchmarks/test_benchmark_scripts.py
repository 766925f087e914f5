# Copyright (c) m2df_mmaction contributors.
"""The benchmark scripts run (CPU path, tiny sizes), so they cannot rot."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from m2df_mmaction.models.layers.otam import otam_distance

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCH = osp.join(ROOT, 'benchmarks')
sys.path.insert(0, BENCH)

import backbone_memory  # noqa: E402
import frozen_costs  # noqa: E402
import gpu_check  # noqa: E402
import world_table  # noqa: E402
from otam_cell_loop import otam_cell_by_cell  # noqa: E402


@pytest.mark.parametrize('shape,bidirectional', [((4, 5, 8, 8), True),
                                                 ((3, 6, 9), True),
                                                 ((2, 7, 5), False)])
def test_cell_loop_otam_is_otam(shape, bidirectional):
    dists = (torch.rand(*shape) * 2).requires_grad_(True)
    ours = otam_distance(dists, 0.5, bidirectional)
    cells = otam_cell_by_cell(dists, 0.5, bidirectional)
    assert cells.dtype == dists.dtype and cells.shape == shape[:-2]
    torch.testing.assert_close(cells, ours, rtol=0, atol=1e-5)
    grad_ours, = torch.autograd.grad(ours.sum(), dists)
    grad_cells, = torch.autograd.grad(cells.sum(), dists)
    torch.testing.assert_close(grad_cells, grad_ours, rtol=0, atol=1e-5)


def test_backbone_memory_checkpointing_saves_memory():
    """Each setting in a fresh process, as the script measures them."""
    args = backbone_memory.parse_args(
        ['--frames', '64', '--threads', '1', '--device', 'cpu'])
    plain = backbone_memory.run_child('TinyCLIP-ViT-32', False, 64, args)
    ckpt = backbone_memory.run_child('TinyCLIP-ViT-32', True, 64, args)
    assert plain['saved_bytes_per_frame'] > 0 and plain['frames'] == 64
    # ~37 MiB -> ~14 MiB (docs/benchmarks.md); a wide margin for noise
    assert 0 < ckpt['peak_bytes'] < 0.7 * plain['peak_bytes']
    rows = [
        dict(arch='a', with_cp=False, frames=f, peak_bytes=10 + 3 * f,
             amp=False, device='cpu') for f in (2, 8)
    ]
    fit, = backbone_memory.fit(rows)
    assert fit['per_frame_bytes'] == pytest.approx(3)
    assert fit['constant_bytes'] == pytest.approx(10)
    assert 'MiB per frame' in backbone_memory.table(rows, [fit])


def test_frozen_costs_on_the_tiny_frozen_models(capsys):
    """frozen_costs.py on the demo configs: the frozen towers' gradient
    facts it reports, the per-video fit and the tables."""
    result = frozen_costs.main([
        '--configs', 'd2st_demo_5w1s.py', 'tsfsar_demo_5w1s.py', '--videos',
        '4', '6', '--with-cp', '0', '--threads', '1', '--validate'
    ])
    rows = {(r['method'], r['videos']): r for r in result['rows']}
    assert set(rows) == {(m, v) for m in ('D2ST-Adapter', 'TS-FSAR')
                         for v in (4, 6)}
    for videos in (4, 6):
        ts, d2st = rows['TS-FSAR', videos], rows['D2ST-Adapter', videos]
        # TS-FSAR: no gradient, no graph, nothing saved inside the tower
        assert ts['tower_params_with_grad'] == 0
        assert ts['tower_block_outputs_in_graph'] == 0
        assert ts['saved_bytes_tower'] == 0 < ts['saved_bytes_other']
        # D2ST: gradients through the frozen blocks to the adapters; the
        # class embedding and ln_post (3 tensors) train
        assert d2st['tower_params_with_grad'] == 3
        assert d2st['saved_bytes_tower'] > 0
        for row in (ts, d2st):
            assert 0 < row['trainable_params'] < row['params']
            assert row['peak_bytes'] > 0
    assert len(result['fits']) == 2
    out = capsys.readouterr().out
    assert 'TS-FSAR' in out and 'MiB / video' in out


def test_episodes_that_fit():
    fit = gpu_check.episodes_that_fit(
        dict(peak_memory_gib=10.0, peak_memory_gib_2_episodes=14.0))
    # 6 GiB fixed, 4 GiB per episode, 1 GiB kept: (24 - 1 - 6) // 4 = 4
    assert fit[24] == 4 and fit[16] == 2 and fit[141] == 33
    assert gpu_check.episodes_that_fit(dict(peak_memory_gib=None)) is None


def test_shell_scripts_parse():
    for script in ('gpu_check.sh', 'device_bundle.sh'):
        subprocess.run(['bash', '-n', osp.join(BENCH, script)], check=True)


def test_gpu_check_cpu_smoke(tiny_benchmark, tmp_path):
    """Every part of the GPU check, tiny, on the CPU, in its own process
    (the benchmarks wrap library functions with timers)."""
    out = tmp_path / 'out'
    env = dict(os.environ, HF_HUB_OFFLINE='1', CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run([
        sys.executable,
        osp.join(BENCH, 'gpu_check.py'), '--device', 'cpu', '--tiny',
        '--out', str(out), '--data-224', tiny_benchmark, '--data-32',
        tiny_benchmark
    ], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['tiny'] and summary['environment']['device'] == 'cpu'
    parts = summary['parts']
    assert {name: p['status'] for name, p in parts.items()} == {
        name: 'ok' for name in gpu_check.PARTS
    }
    train = parts['train']['result']['rows']
    assert {(r['arch'], r['precision'], r['with_cp']) for r in train} == {
        (arch, precision, cp) for arch in ('tiny-vit', 'tiny-rn')
        for precision in ('bf16', 'fp32') for cp in (False, True)
    }
    assert all(r['episodes_per_second'] > 0 for r in train)
    data, = parts['data']['result']['rows']
    assert 0 <= data['data_share'] < 1 and data['iterations'] >= 1
    run, = parts['eval']['result']['runs']
    row, = run['rows']
    # each distinct video once, plus the loop's check that the test pipeline
    # is not random (one video under three seeds)
    assert row['cached']['videos'] == row['distinct_videos'] + 3
    assert row['cached']['parts']['head calls'] > 0
    heads = parts['heads']['result']
    assert {r['head'] for r in heads['heads']['rows']} == {
        'M2DFHead', 'CLIPFSARHead'
    }
    assert all('cell_loop_train_s' in r for r in heads['heads']['rows'])
    assert len(heads['otam']['rows']) == 3
    markdown = (out / 'summary.md').read_text()
    for title in ('### Training', '### Data-time share', '### Evaluation',
                  '### Heads'):
        assert title in markdown


def test_world_table_runs_existing_configs_and_summarises_seeds():
    runs = world_table.runs('tiny-clip-world_demo', [0, 1, 2])
    # 10 models x 3 seeds + 4 ablations x 1 seed, first seed of every row
    # first
    assert len(runs) == 34
    assert [seed for _, _, seed in runs[:14]] == [0] * 14
    for _, config, _ in runs + world_table.runs('demo', [0]):
        assert osp.isfile(osp.join(ROOT, config)), config
    rows = {'m': [dict(seed=s, accuracy=a, ci95=0.5, best_val=90.0, wall_s=300)
                  for s, a in enumerate((88.0, 90.0, 92.0))]}
    line = world_table.table(rows).splitlines()[-1]
    assert '90.00 ± 2.00 (sd)' in line and '88.00 / 90.00 / 92.00' in line


def test_demo_episode_speed_reads_a_log_and_passes_train_options(tmp_path):
    import demo_episode_speed as speed
    log = tmp_path / 'run.log'
    lines = [
        f'12/03 - mmengine - INFO - Iter(train) [{i:4d}/300]  lr: 1e-4  '
        f'time: {0.2 if i <= 100 else 0.5:.4f}  data_time: 0.0100  '
        'loss: 1.0' for i in range(1, 301)
    ]
    log.write_text('\n'.join(lines) + '\n')
    result = speed.main([str(log)])
    assert result['first']['s_per_episode'] == pytest.approx(0.2)
    assert result['last']['s_per_episode'] == pytest.approx(0.5)
    assert result['last_over_first'] == pytest.approx(2.5)
    # what follows -- reaches tools/train.py whole (the optional log
    # argument must not take its first word)
    args = speed.parse_args(
        ['--run', '--', '--cfg-options', 'flush_denormal=False'])
    assert args.log is None and args.run
    assert args.extra == ['--cfg-options', 'flush_denormal=False']
