# Copyright (c) m2df_mmaction contributors.
"""The tables of ``frozen_costs.py``: per-video fits of its rows, the
cost tables and the goal's ratios (also ``--from-json`` reprints)."""
from backbone_memory import fit

#: Episode sizes the fits are read at: 5w1s with 1 and 5 queries per class.
TARGETS = (10, 30)
MiB = 2**20


def format_row(r: dict) -> str:
    return (f'  {r["method"]} cp={"on" if r["with_cp"] else "off"} '
            f'V={r["videos"]}: peak {r["peak_bytes"] / MiB:.0f} MiB, '
            f'{r["seconds"]:.1f} s (others used {r["others_cores"]:.2f} '
            f'cores), saved tower/other {r["saved_bytes_tower"] / MiB:.0f}/'
            f'{r["saved_bytes_other"] / MiB:.0f} MiB, child '
            f'{r["child_seconds"]:.0f} s, load {r["loadavg_before"][0]:.2f}')


def fits(rows) -> list:
    """Per (config, with_cp): peak and time = constant + per video x V
    (``backbone_memory.fit``), read at :data:`TARGETS`."""
    out = []
    keys = dict.fromkeys((r['config'], r['with_cp']) for r in rows)
    for config, with_cp in keys:
        group = [r for r in rows if (r['config'], r['with_cp']) ==
                 (config, with_cp) and not r.get('validation')]
        if len({r['videos'] for r in group}) < 2:
            continue
        line = {}
        for key in ('peak_bytes', 'seconds', 'own_cpu_seconds',
                    'saved_bytes'):
            pseudo = [dict(arch=config, with_cp=with_cp, frames=r['videos'],
                           peak_bytes=r['saved_bytes_tower'] +
                           r['saved_bytes_other'] if key == 'saved_bytes'
                           else r[key], amp=False, device=r['device'])
                      for r in group]
            f, = fit(pseudo)
            line[key] = (f['constant_bytes'], f['per_frame_bytes'])
        row = dict(config=config, method=group[0]['method'], with_cp=with_cp,
                   videos_measured=sorted({r['videos'] for r in group}))
        for key, (const, slope) in line.items():
            row[f'{key}_constant'] = const
            row[f'{key}_per_video'] = slope
            for v in TARGETS:
                row[f'{key}_at_{v}'] = const + slope * v
        out.append(row)
    return out


def _mib(x) -> str:
    return '-' if x is None else f'{x / MiB:,.0f}'


def training_bytes(row: dict, peak: float) -> float:
    """Weights + Adam state + the step's peak (activations, gradients,
    temporaries): what one training step holds at its peak."""
    return row['weight_bytes'] + row['adam_state_bytes'] + peak


def table(result: dict) -> str:
    """Markdown: parameters and graph per config; then per (config,
    with_cp) the measured and fitted peaks and times; then the goal."""
    from bench_common import markdown_table
    rows, fitted = result['rows'], result['fits']
    plain = [r for r in rows if not r.get('validation')]
    sizes = sorted({r['videos'] for r in plain})
    first = {}
    for r in plain:
        if not r['with_cp'] and r['videos'] == sizes[0]:
            first.setdefault(r['config'], r)
    for r in plain:
        first.setdefault(r['config'], r)
    part1 = markdown_table(
        ['method', 'params (M)', 'trainable (M)', 'weights MiB',
         'Adam state MiB', 'tower tensors with a grad',
         'tower blocks in the graph',
         f'saved for backward V={sizes[0]}, tower / rest MiB'],
        [[r['method'], f'{r["params"] / 1e6:.2f}',
          f'{r["trainable_params"] / 1e6:.2f}', _mib(r['weight_bytes']),
          _mib(r['adam_state_bytes']),
          f'{r["tower_params_with_grad"]} / {r["tower_params"]}',
          f'{r["tower_block_outputs_in_graph"]} / {r["tower_blocks"]}',
          f'{_mib(r["saved_bytes_tower"])} / {_mib(r["saved_bytes_other"])}'
          + ('' if not r['with_cp'] else ' (checkpointing on)')]
         for r in first.values()])
    measured = {}
    for r in plain:
        measured.setdefault((r['config'], r['with_cp']), {})[r['videos']] = r
    by_fit = {(f['config'], f['with_cp']): f for f in fitted}
    valid = {(r['config'], r['with_cp']): r for r in rows
             if r.get('validation')}
    header = ['method', 'ckpt']
    header += [f'peak MiB V={v}' for v in sizes]
    header += [f's V={v}' for v in sizes]
    header += ['MiB / video'] + [f'peak MiB @{v}' for v in TARGETS]
    header += [f'training MiB @{v}' for v in TARGETS]
    header += [f's @{v}' for v in TARGETS]
    if valid:
        header += ['measured @10: peak MiB, s']
    lines = []
    for key, group in measured.items():
        f = by_fit.get(key)
        any_row = next(iter(group.values()))
        line = [any_row['method'], 'on' if key[1] else 'off']
        line += [_mib(group[s]['peak_bytes']) if s in group else '-'
                 for s in sizes]
        line += [f'{group[s]["seconds"]:.1f}' if s in group else '-'
                 for s in sizes]
        if f:
            line += [_mib(f['peak_bytes_per_video'])]
            line += [_mib(f[f'peak_bytes_at_{v}']) for v in TARGETS]
            line += [_mib(training_bytes(any_row, f[f'peak_bytes_at_{v}']))
                     for v in TARGETS]
            line += [f'{f[f"seconds_at_{v}"]:.0f}' for v in TARGETS]
        else:
            line += ['-'] * (1 + 3 * len(TARGETS))
        if valid:
            v = valid.get(key)
            line += ['-' if v is None else
                     f'{_mib(v["peak_bytes"])}, {v["seconds"]:.1f}']
        lines.append(line)
    part2 = markdown_table(header, lines)
    return part1 + '\n\n' + part2 + '\n\n' + goal(result)


def goal(result: dict) -> str:
    """The issue's goal: D2ST-Adapter and TS-FSAR at most half of
    CLIP-FSAR's peak (fitted at 10 and 30 videos), TS-FSAR with no
    gradient through the tower."""
    fitted = {(f['method'], f['with_cp']): f for f in result['fits']}
    first = {}
    for r in result['rows']:
        first.setdefault(r['method'], r)
    lines = []
    for cp in (False, True):
        ref = fitted.get(('CLIP-FSAR', cp))
        if ref is None:
            continue
        for method in ('D2ST-Adapter', 'TS-FSAR'):
            f = fitted.get((method, cp))
            if f is None:
                continue
            step = [f[f'peak_bytes_at_{v}'] / ref[f'peak_bytes_at_{v}']
                    for v in TARGETS]
            total = [
                training_bytes(first[method], f[f'peak_bytes_at_{v}']) /
                training_bytes(first['CLIP-FSAR'], ref[f'peak_bytes_at_{v}'])
                for v in TARGETS
            ]
            ratios = step + total
            verdict = 'met' if max(ratios) <= 0.5 else \
                'NOT met' if min(ratios) > 0.5 else 'met in part'
            lines.append(
                f'- {method} / CLIP-FSAR, both with checkpointing '
                f'{"on" if cp else "off"}: step peak ' +
                ', '.join(f'{r:.2f}' for r in step) + '; training memory ' +
                ', '.join(f'{r:.2f}' for r in total) +
                f' (at {", ".join(str(v) for v in TARGETS)} videos): goal '
                f'(<= 0.5) {verdict}')
    ref = fitted.get(('CLIP-FSAR', False))
    cross = [(m, fitted.get((m, True))) for m in ('D2ST-Adapter', 'TS-FSAR')]
    cross = [(m, f) for m, f in cross if f is not None]
    if ref is not None and cross:
        lines.append(
            '- (for reference, not the goal) with checkpointing on, against '
            "CLIP-FSAR's full fine-tune without it, step peak: " + '; '.join(
                f'{m} ' + ', '.join(
                    f'{f[key] / ref[key]:.2f}'
                    for key in (f'peak_bytes_at_{v}' for v in TARGETS))
                for m, f in cross) +
            f' (at {", ".join(str(v) for v in TARGETS)} videos)')
    for r in result['rows']:
        if r['method'] == 'TS-FSAR' and not r['with_cp']:
            none = r['tower_params_with_grad'] == 0 and \
                r['tower_block_outputs_in_graph'] == 0 and \
                r['saved_bytes_tower'] == 0
            lines.append(
                f'- TS-FSAR gradient through the CLIP tower: '
                f'{"none" if none else "YES"} (tower tensors with a '
                f'gradient {r["tower_params_with_grad"]}, tower blocks in '
                f'the graph {r["tower_block_outputs_in_graph"]}, bytes saved '
                f'for the backward in the tower {r["saved_bytes_tower"]})')
            break
    return '\n'.join(lines)
