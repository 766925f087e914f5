#!/usr/bin/env bash
# One-command install of m2df_mmaction and the stack it is tested with.
#
#   bash tools/install.sh               # CPU machine / CI: exact pinned stack
#   bash tools/install.sh --keep-torch  # GPU machine: keep your CUDA torch
#
# mmaction2 is installed with --no-deps: its metadata pulls in
# opencv-contrib-python, a second cv2 that would shadow opencv-python.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="${PIP:-python -m pip}"
if [[ "${1:-}" == "--keep-torch" ]]; then
    python -c "import torch, torchvision" || {
        echo "--keep-torch: install torch and torchvision first" >&2; exit 1; }
    grep -vE '^(torch|torchvision)==' requirements/pinned.txt \
        > /tmp/m2df_pinned_no_torch.txt
    $PIP install -r /tmp/m2df_pinned_no_torch.txt
else
    $PIP install -r requirements/pinned.txt
fi
$PIP install --no-deps mmaction2==1.2.0
$PIP install --no-deps -e .
python -c "import m2df_mmaction; print('m2df_mmaction', m2df_mmaction.__version__, 'installed')"
