#!/usr/bin/env bash
# The CPU demo in one command: write the synthetic benchmark if missing,
# train, then test the best checkpoint (chosen on the validation classes) on
# the novel test classes, and compare its accuracy with the measured one
# (tools/check_result.py).
#
#   bash tools/demo.sh [CONFIG] [extra tools/train.py options]
#
# CONFIG defaults to configs/m2df_tiny-clip-world_demo_5w1s.py (CLIP-M2DF from the
# shipped tiny CLIP pretrained on the captioned synthetic world,
# docs/tiny_clip.md); configs/m2df_demo_5w1s.py starts from random weights.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
CONFIG=${1:-configs/m2df_tiny-clip-world_demo_5w1s.py}
shift || true
NAME=$(basename "$CONFIG" .py)
WORK_DIR=work_dirs/$NAME
start=$(date +%s)
python tools/data/make_synthetic.py --out data/synthetic
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
BEST=$(ls -t "$WORK_DIR"/best_fewshot_accuracy_iter_*.pth | head -n 1)
python tools/test.py "$CONFIG" "$BEST" --work-dir "$WORK_DIR"
echo "demo ($NAME) finished in $(( $(date +%s) - start )) s; tested $BEST"
# the accuracy against the figure measured for this config and seed
# (benchmarks/expected_results.json; CPUs differ by about a point)
python tools/check_result.py "$WORK_DIR" || true
