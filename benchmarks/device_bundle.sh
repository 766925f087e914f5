#!/usr/bin/env bash
# Pack this environment's OpenMMLab / open_clip / decord packages for a GPU
# machine that has PyTorch but not them and no internet (e.g. a lent device
# machine whose image holds torch, numpy, opencv, scipy, timm, ...):
#   bash benchmarks/device_bundle.sh            # -> .devenv/site.tar.gz
# Then, on that machine, from the repository root:
#   M2DF_SITE_BUNDLE=.devenv/site.tar.gz bash benchmarks/gpu_check.sh OUT
# (gpu_check.sh unpacks it to /tmp/m2df_site and puts it on PYTHONPATH).
# Pure-Python packages plus decord's self-contained wheel contents; no
# bytecode, no bundled configs. The folder is git-ignored through
# .git/info/exclude.
set -euo pipefail
cd "$(dirname "$0")/.."
SITE=$(python -c "import mmengine, os; print(os.path.dirname(os.path.dirname(mmengine.__file__)))")
PACKAGES=(mmengine mmaction mmcv open_clip decord decord.libs ftfy wcwidth
          addict yapf termcolor platformdirs importlib_metadata)
# their metadata too (mmaction2 reads versions through importlib_metadata)
for dist in mmengine mmaction2 mmcv_lite open_clip_torch decord ftfy wcwidth \
    addict yapf termcolor platformdirs importlib_metadata; do
  PACKAGES+=($(cd "$SITE" && ls -d "${dist}"-*.dist-info))
done
mkdir -p .devenv
grep -qx '/.devenv/' .git/info/exclude 2>/dev/null || echo '/.devenv/' >> .git/info/exclude
tar -C "$SITE" --exclude=__pycache__ --exclude='mmaction/.mim' \
  -czf .devenv/site.tar.gz "${PACKAGES[@]}"
python - "$SITE" <<'PYEOF'
import importlib.metadata as md
for name in ('mmengine', 'mmaction2', 'mmcv-lite', 'open_clip_torch',
             'decord', 'ftfy', 'wcwidth', 'addict', 'yapf', 'termcolor',
             'platformdirs', 'importlib_metadata'):
    try:
        print(f'  {name} {md.version(name)}')
    except md.PackageNotFoundError:
        print(f'  {name} (not installed)')
PYEOF
du -h .devenv/site.tar.gz
