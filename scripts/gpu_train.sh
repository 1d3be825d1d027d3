#!/usr/bin/env bash
# One training run on a lent GPU machine (the device tool), prepared so the device minutes go to
# training, not setting up. Here, first:
#     python scripts/pack_data.py --src ../shared/data --out pack --split train --quality 70
# (the six-source data, 3,633 train pairs: 43 MiB, which with the 19 MiB tree is just under the 64 MiB
# that travels; the run does not validate there, so val stays here)
# then run this through the device tool with carry=["pack"] and timeout_s=600:
#     bash scripts/gpu_train.sh
# It fine-tunes the shipped weights for MINUTES (default 7.5) at batch 64 with 14 loader workers and
# writes the EMA weights (fp16), the log and the curves to $OUT (or ./gpu_out off the device). Bring
# the weights back, then run scripts/eval.py here on the full-size val photos before shipping them.
# Extra arguments go to train.py and win over the ones below, e.g. a closing phase that keeps a
# quarter of the samples small people:
#     bash scripts/gpu_train.sh --lr 2e-4 --size 224 --framings native=0.25,whole=0.3,close=0.1,desk=0.1,small=0.25 --faults 0.5
# Budget: MINUTES of training plus about a minute of start-up and export must end inside the call's
# timeout_s. The run does not validate there (--val-limit 0): two runs that validated every 40 epochs
# on the machine's CPU, beside 14 busy loader workers, once ran a call past its limit and brought
# back no weights (validation was the likely sink: about 9 epochs a minute each until then). Without a
# val set every epoch's EMA weights are written to $OUT, so a cut-off run still brings back its latest.
# Two runs can share the one GPU: side by side they made about 9 epochs a minute each, one alone 12
# (H100, batch 64, 224 px); the loader, not the GPU, is the limit. Give each its own OUT, RUN_DIR and
# half the WORKERS, start both in the background and wait. The shipped model came from one such call
# (H200, MINUTES=8.4 in a 600 s call: 545 s of wall time), two framing mixes:
#     export MINUTES=8.4 WORKERS=7
#     OUT=$OUT/a RUN_DIR=/tmp/ra bash scripts/gpu_train.sh --lr 4e-4 --size 224 --faults 0.5 \
#         --framings native=0.25,whole=0.3,close=0.1,desk=0.1,small=0.25 > /tmp/a.out 2>&1 &
#     OUT=$OUT/b RUN_DIR=/tmp/rb bash scripts/gpu_train.sh --lr 4e-4 --size 224 --faults 0.5 \
#         --framings native=0.3,whole=0.35,close=0.1,desk=0.1,small=0.15 > /tmp/b.out 2>&1 &
#     wait
# then, here, scripts/average_weights.py on the two exports, and scripts/eval.py on all three. That is
# 8 files back (4 a run), the device tool's limit. A 192-wide coarse head plus the pack is about 61 MB
# of the 64 MiB that travels: other weights to --init from must replace models/'s, not sit beside them.
# --framings names modes of augment.FRAMINGS; a mode the mix leaves out (pose, group in these) gets 0.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
MINUTES=${MINUTES:-7.5}
python3 -c 'import torch, timm, cv2, safetensors; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
# the run keeps the shipped model's shape (its EdgeRefiner, coarse head width and blocks per stage), or
# --init would not fit it ("-" = the arch's own depths)
read -r REFINE_WIDTH COARSE_WIDTH DEPTHS < <(python3 -c 'from fastvit_fx.model import load_weights; c = load_weights("models/fastvit_t8_person.safetensors")[0]; print(c.refine_width, c.coarse_width, ",".join(map(str, c.depths)) if c.depths else "-")')
DEPTH_ARGS=()
[ "$DEPTHS" = "-" ] || DEPTH_ARGS=(--depths "$DEPTHS")
RUN_DIR=${RUN_DIR:-/tmp/gpu_run}  # checkpoints stay on the machine: with the optimizer they are too big to bring back
python3 scripts/train.py --data pack/person-seg --backgrounds pack/backgrounds --out "$RUN_DIR" \
    --init models/fastvit_t8_person.safetensors --time-budget "$MINUTES" --epochs 1000 \
    --size 256 --batch 64 --workers "${WORKERS:-14}" --lr 1e-3 --warmup-steps 200 \
    --lovasz 1 --ema 0.999 --val-limit 0 --refine-width "$REFINE_WIDTH" --coarse-width "$COARSE_WIDTH" "${DEPTH_ARGS[@]}" \
    --export "$OUT/export_fp16.safetensors" "$@" 2>&1 | stdbuf -oL tr '\r' '\n' | grep --line-buffered -v '^epoch .*it/s' | tee "$OUT/train.log" \
    || status=$?
cp "$RUN_DIR/log.csv" "$RUN_DIR/curves.png" "$OUT/" || true  # whatever the run got to, bring it back
exit "${status:-0}"
