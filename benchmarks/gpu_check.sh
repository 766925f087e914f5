#!/usr/bin/env bash
# The GPU check, one short run on one GPU with no internet (~6-8 min on an
# H200, of which ~1 min writing synthetic videos):
#   bash benchmarks/gpu_check.sh [RESULTS_DIR]      # default: $OUT or
#                                                   # /tmp/m2df_gpu_check
# Results (at most 3 files): RESULTS_DIR/summary.json (machine-readable),
# summary.md (tables to paste into docs/benchmarks.md), gpu_check.log.
# Scratch (videos, work dirs): $M2DF_GPU_WORK (default /tmp/m2df_gpu_work).
# A machine with torch but without this project's other packages: make
# .devenv/site.tar.gz here with benchmarks/device_bundle.sh, carry it and
# set M2DF_SITE_BUNDLE=.devenv/site.tar.gz.
#
# 1. the cached test loop gives the plain loop's predictions on this GPU
#    (tests/engine/test_cached_loop.py, the CUDA path of the host copies);
# 2. benchmarks/gpu_check.py: training episodes/s and peak memory (RN50,
#    ViT-B/16; 5w1s, 5w5s; bf16, fp32; checkpointing off/on) and the
#    episodes that fit per GPU memory size; the data-time share of real
#    training; plain vs cached evaluation; the M2DF and CLIP-FSAR heads
#    next to a cell-by-cell OTAM loop.
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=${1:-${OUT:-/tmp/m2df_gpu_check}}
WORK=${M2DF_GPU_WORK:-/tmp/m2df_gpu_work}
BUDGET=${M2DF_GPU_BUDGET_S:-480}
mkdir -p "$RESULTS" "$WORK"
LOG=$RESULTS/gpu_check.log
exec > >(tee "$LOG") 2>&1
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 PYTHONPATH=$PWD:${PYTHONPATH:-}
if [ -n "${M2DF_SITE_BUNDLE:-}" ]; then
  mkdir -p /tmp/m2df_site && tar -xzf "$M2DF_SITE_BUNDLE" -C /tmp/m2df_site
  export PYTHONPATH=$PYTHONPATH:/tmp/m2df_site
fi
PY=${PYTHON:-$(command -v python || command -v python3)}
start=$(date +%s)
"$PY" - <<'PYEOF' || { echo "gpu_check: the environment is not ready"; exit 2; }
import torch
print('torch', torch.__version__, 'CUDA', torch.version.cuda,
      torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')
import mmaction, mmengine, open_clip, decord  # noqa: F401
import m2df_mmaction  # noqa: F401
print('mmengine', mmengine.__version__, 'mmaction2', mmaction.__version__,
      'open_clip', open_clip.__version__)
PYEOF

echo "== synthetic videos (at $(( $(date +%s) - start )) s)"
D32=$WORK/synthetic
D224=$WORK/synthetic224
[ -f "$D32/test.txt" ] || "$PY" tools/data/make_synthetic.py --out "$D32" \
  | tail -2
[ -f "$D224/test.txt" ] || "$PY" tools/data/make_synthetic.py --out "$D224" \
  --size 224 --train-videos 8 --val-videos 2 --test-videos 12 \
  --val-pairs 2 --test-pairs 8 | tail -2

echo "== cached loop == plain loop on this device (at $(( $(date +%s) - start )) s)"
timeout 300 "$PY" -m pytest -q -p no:randomly -p no:cacheprovider \
  tests/engine/test_cached_loop.py -k matches_plain 2>&1 | tail -3
equal=$?

echo "== benchmarks/gpu_check.py (at $(( $(date +%s) - start )) s)"
# M2DF_GPU_CHECK_ARGS: extra arguments, e.g. "--device cpu --tiny" (smoke run)
"$PY" benchmarks/gpu_check.py --out "$RESULTS" --work-dir "$WORK/runs" \
  --data-224 "$D224" --data-32 "$D32" --budget-s "$BUDGET" \
  ${M2DF_GPU_CHECK_ARGS:-}
status=$?
echo "gpu_check: done in $(( $(date +%s) - start )) s (equality test rc=$equal," \
  "benchmarks rc=$status); results in $RESULTS"
[ $equal -eq 0 ] && [ $status -eq 0 ]
