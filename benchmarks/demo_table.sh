#!/usr/bin/env bash
# The synthetic-benchmark table of the README: every demo model and the M2DF
# ablations under the same budget (configs/_base_/schedules/demo_cpu.py),
# each trained, its best validation checkpoint tested on the novel classes.
#
#   bash benchmarks/demo_table.sh [WORK_ROOT]    # ~4-5 min per row on 2 cores
#
# A row whose test log already exists is not rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
ROOT=${1:-work_dirs/demo_table}
CONFIGS=(
    configs/protonet_demo_5w1s.py
    configs/otam_demo_5w1s.py
    configs/clip_fsar_demo_5w1s.py
    configs/m2df_demo_5w1s.py
    configs/trx_demo_5w1s.py
    configs/hyrsm_demo_5w1s.py
    configs/hyrsmpp_demo_5w1s.py
    configs/molo_demo_5w1s.py
    configs/d2st_demo_5w1s.py
    configs/tsfsar_demo_5w1s.py
    configs/ablations/m2df_demo_5w1s_no-pps.py
    configs/ablations/m2df_demo_5w1s_local-only.py
    configs/ablations/m2df_demo_5w1s_global-only.py
    configs/ablations/m2df_demo_5w1s_no-distill.py
)
python tools/data/make_synthetic.py --out data/synthetic
for config in "${CONFIGS[@]}"; do
    name=$(basename "$config" .py)
    work="$ROOT/$name"
    [[ -f "$work/test.log" ]] && continue
    start=$(date +%s)
    python tools/train.py "$config" --work-dir "$work" > "$work.train.log" 2>&1
    best=$(ls -t "$work"/best_fewshot_accuracy_iter_*.pth | head -n 1)
    python tools/test.py "$config" "$best" --work-dir "$work" \
        > "$work/test.log.tmp" 2>&1
    echo "wall_s $(( $(date +%s) - start ))" >> "$work/test.log.tmp"
    mv "$work/test.log.tmp" "$work/test.log"
done
echo "| model | novel-class 5w1s accuracy (%) | 95% interval | best val (%) at iter | wall (s) |"
echo "|---|---|---|---|---|"
for config in "${CONFIGS[@]}"; do
    name=$(basename "$config" .py)
    work="$ROOT/$name"
    python - "$work" "$name" <<'PY'
import glob, json, re, sys
work, name = sys.argv[1:]
log = open(f'{work}/test.log').read()
acc = re.findall(r'fewshot/accuracy: ([\d.]+)\s+fewshot/ci95: ([\d.]+)', log)[-1]
wall = re.findall(r'wall_s (\d+)', log)[-1]
best = sorted(glob.glob(f'{work}/best_fewshot_accuracy_iter_*.pth'))[-1]
it = re.search(r'iter_(\d+)', best).group(1)
vals = []
for path in glob.glob(f'{work}/*/vis_data/scalars.json'):
    for line in open(path):
        rec = json.loads(line)
        if 'fewshot/accuracy' in rec:
            vals.append(rec['fewshot/accuracy'])
print(f'| {name} | {float(acc[0]):.2f} | ± {float(acc[1]):.2f} | '
      f'{max(vals):.1f} at {it} | {wall} |')
PY
done
