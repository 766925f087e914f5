#!/usr/bin/env bash
# One short GPU check (no internet; the machine's own torch; this tree).
#   bash benchmarks/gpu_check.sh [OUT_DIR]
# 1. synthetic videos at 224 px (small split sizes, written in ~1 min);
# 2. 50 training episodes of CLIP-M2DF ViT-B/16 5-way 1-shot, 5 queries per
#    class, 8 frames, --amp, random init (pretrained=None), via tools/train.py:
#    episodes/s (median iteration time after 10 warm-up episodes) and peak
#    GPU memory, read from MMEngine's scalars log;
# 3. plain TestLoop vs CachedEpisodicTestLoop, ViT-B/16, 1,000 episodes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-${OUT:-/tmp/m2df_gpu_check}}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 PYTHONPATH=$PWD:${PYTHONPATH:-}
python -c "import torch; print(torch.__version__, torch.cuda.get_device_name())"

DATA=$OUT/synthetic224
[ -f "$DATA/test.txt" ] || python tools/data/make_synthetic.py --out "$DATA" \
  --size 224 --train-videos 10 --val-videos 4 --test-videos 20 \
  --val-pairs 3 --test-pairs 8

CFG=$OUT/m2df_synthetic_vit-b16.py
cat > "$CFG" <<CFGEOF
_base_ = ['$PWD/configs/m2df_demo_5w1s.py']
model = dict(
    backbone=dict(arch='ViT-B-16', pretrained=None),
    text_encoder=dict(arch='ViT-B-16', pretrained=None),
    cls_head=dict(fusion=dict(ffn_dims=2048)))
train_cfg = dict(max_iters=50, val_interval=1000000)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1000000))
CFGEOF
# Resize of the synthetic pipelines is item 3 (0-based) of each list.
PIPE_OPTS=()
for loader in train val test; do
  PIPE_OPTS+=("${loader}_dataloader.dataset.dataset.pipeline.3.scale=(224,224)"
              "${loader}_dataloader.dataset.dataset.ann_file=$DATA/${loader}.txt"
              "${loader}_dataloader.dataset.dataset.data_prefix.video=$DATA"
              "${loader}_dataloader.dataset.class_names=$DATA/${loader}_classes.txt"
              "${loader}_dataloader.num_workers=8")
done

echo "== 50 training episodes, ViT-B/16, 224 px, 8 frames, 5w1s, 5q, --amp"
python tools/train.py "$CFG" --amp --work-dir "$OUT/train" \
  --cfg-options "${PIPE_OPTS[@]}" > "$OUT/train.log" 2>&1 \
  || { tail -40 "$OUT/train.log"; exit 1; }
python - "$OUT/train" <<'PYEOF'
import glob, json, statistics, sys
path = sorted(glob.glob(f'{sys.argv[1]}/*/vis_data/scalars.json'))[-1]
rows = [json.loads(line) for line in open(path)]
rows = [r for r in rows if 'time' in r and 'loss' in r]
times = [r['time'] for r in rows[10:]] or [r['time'] for r in rows]
memory = max(r.get('memory', 0) for r in rows)
print(f'episodes/s: {1 / statistics.median(times):.2f} '
      f'(median iteration {statistics.median(times):.3f} s over '
      f'{len(times)} iterations, data_time '
      f'{statistics.median(r["data_time"] for r in rows[10:] or rows):.3f} s)')
print(f'peak GPU memory (MMEngine max_memory_allocated): {memory} MB')
print(f'last loss {rows[-1]["loss"]:.3f}')
PYEOF

echo "== evaluation: plain vs cached, ViT-B/16, 1,000 test episodes"
python benchmarks/eval_speed.py --config "$CFG" --data-root "$DATA" \
  --episodes 1000 --workers 8 --work-dir "$OUT/eval" \
  --cfg-options "test_dataloader.dataset.dataset.pipeline.3.scale=(224,224)" \
  2>&1 | grep -v -i warn | tail -6

echo "== one training step split, ViT-B/16, amp"
python benchmarks/step_profile.py --arch vit-b16 --device cuda --amp \
  --data-root "$DATA" --steps 5 --warmup 2 2>&1 | grep -v -i warn | tail -14
