#!/usr/bin/env bash
# One training run on a lent GPU machine (the device tool), prepared so the session spends its
# 15 device minutes training, not setting up. Here, first:
#     python scripts/pack_data.py --src ../shared/data --out pack     # 42 MiB, under the 64 MiB limit
# then run this through the device tool with carry=["pack"] and timeout_s=600:
#     bash scripts/gpu_train.sh
# It fine-tunes the shipped weights for MINUTES (default 7.5) at batch 64 with 14 loader workers and
# writes the EMA weights (fp16), the log and the curves to $OUT (or ./gpu_out off the device). Bring
# the weights back, then run scripts/eval.py here on the full-size val photos before shipping them.
# Extra arguments go to train.py and win over the ones below, e.g. run 7's closing phase (shipped in session 7):
#     bash scripts/gpu_train.sh --lr 2e-4 --size 224 --framings native=0.25,whole=0.3,close=0.1,desk=0.1,small=0.25 --faults 0.5
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
MINUTES=${MINUTES:-7.5}
python3 -c 'import torch, timm, cv2, safetensors; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
# the run keeps the shipped model's shape (e.g. its EdgeRefiner), or --init would not fit it
REFINE_WIDTH=$(python3 -c 'from fastvit_fx.model import load_weights; print(load_weights("models/fastvit_t8_person.safetensors")[0].refine_width)')
python3 scripts/train.py --data pack/person-seg --backgrounds pack/backgrounds --out /tmp/gpu_run \
    --init models/fastvit_t8_person.safetensors --time-budget "$MINUTES" --epochs 1000 \
    --size 256 --batch 64 --workers "${WORKERS:-14}" --lr 1e-3 --warmup-steps 200 \
    --lovasz 1 --ema 0.999 --val-every "${VAL_EVERY:-15}" --refine-width "$REFINE_WIDTH" \
    --export "$OUT/export_fp16.safetensors" "$@" 2>&1 | tr '\r' '\n' | grep --line-buffered -v '^epoch .*it/s' | tee "$OUT/train.log" \
    || status=$?
cp /tmp/gpu_run/log.csv /tmp/gpu_run/curves.png "$OUT/" || true  # whatever the run got to, bring it back
exit "${status:-0}"
