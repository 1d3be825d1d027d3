#!/usr/bin/env bash
# One training run on a lent GPU machine (the device tool), prepared so the device minutes go to
# training, not setting up. Here, first:
#     python scripts/pack_data.py --src ../shared/data --out pack --split train --quality 60
# (the six-source data, 3,633 train pairs: 40 MiB; the run does not validate there, so val stays here).
# It writes pack/ and pack.zip; the archive is what travels (the device tool refused the folder's 7,000
# files although their bytes fit) and this script unpacks it there. The archive and the working tree
# travel together, at most 64 MiB: pack_data.py says when they would not.
# With the shipped 10 MB weights the rest of the tree is about 20 MiB; other weights files in the tree
# (models/unshipped/) must leave it first. Then run this through the device tool with carry=["pack.zip"]
# and timeout_s=600:
#     bash scripts/gpu_train.sh
# It fine-tunes the shipped weights (their blocks per stage and head widths) for MINUTES (default 7.5)
# at batch 64 with 14 loader workers and writes to $OUT (./gpu_out off the device): the last EMA
# weights (export_fp16.safetensors), SNAPSHOTS points along the run (below), the log and the curves.
# Bring them back, then judge them here with scripts/compare_candidates.py, by a rule written first.
# Extra arguments go to train.py and win over the ones below. The recipe that shipped the current
# weights on the CPU (taught by the shipped weights on portraits and full body while the scene sources
# are learned; its early epochs were the ones to ship) is, at the GPU's batch:
#     bash scripts/gpu_train.sh --teacher models/fastvit_t8_person.safetensors --distill 2 --lr 3e-4 \
#         --size 224 --ema 0.998 --faults 0.5 --framings native=0.3,whole=0.35,close=0.1,desk=0.1,small=0.15 \
#         --source-shares shen2016-portraits=0.27,clothing-co-parsing=0.27,cdnet-pedestrians=0.02,sbi2015-indoor=0.17,davis2016-poses=0.14,camvid-street=0.13
# and with --turn 0.2 people lying down or upside down too (model card, "Turned photos": 40 CPU minutes
# took full body turned on its side 0.164 -> 0.377; judge it with scripts/eval.py --rotate 90 as well).
# Budget: MINUTES of training plus about a minute of start-up and export must end inside the call's
# timeout_s. The run does not validate there (--val-limit 0): two runs that validated every 40 epochs
# on the machine's CPU, beside 14 busy loader workers, once ran a call past its limit and brought
# back no weights (validation was the likely sink). Every epoch's EMA weights are written to $OUT as
# the export, so a cut-off run still brings back its latest.
# Two runs can share the one GPU (SNAPSHOTS=0, or the files back exceed 8): side by side they made
# about 9 epochs a minute each, one alone 12 (H100, batch 64, 224 px); the loader, not the GPU, is the
# limit. Give each its own OUT, RUN_DIR and half the WORKERS, start both in the background and wait:
#     python3 -m zipfile -e pack.zip .   # once, before both start (each would unpack it otherwise)
#     export MINUTES=8.4 WORKERS=7 SNAPSHOTS=0
#     OUT=$OUT/a RUN_DIR=/tmp/ra bash scripts/gpu_train.sh --lr 4e-4 --size 224 --faults 0.5 \
#         --framings native=0.25,whole=0.3,close=0.1,desk=0.1,small=0.25 > /tmp/a.out 2>&1 &
#     OUT=$OUT/b RUN_DIR=/tmp/rb bash scripts/gpu_train.sh --lr 4e-4 --size 224 --faults 0.5 \
#         --framings native=0.3,whole=0.35,close=0.1,desk=0.1,small=0.15 > /tmp/b.out 2>&1 &
#     wait
# (the weights shipped before the broadened data came from such a call: H200, MINUTES=8.4 in a 600 s
# call, 545 s of wall time; then scripts/average_weights.py on the two exports). That is 8 files back
# (4 a run), the device tool's limit.
# The loader sets the pace there, so `--echo 2` (or 3) trains each rendered batch that many steps,
# the echoes mirrored, zoomed and lit afresh on the GPU (training/echo.py, data echoing): more steps a
# minute from the same workers. Not yet measured on a GPU: compare the log's steps a minute and judge
# the weights by the rule as always.
# --framings names modes of augment.FRAMINGS; a mode the mix leaves out (pose, group in these) gets 0.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d pack ] || python3 -m zipfile -e pack.zip .  # the carried archive of scripts/pack_data.py
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
MINUTES=${MINUTES:-7.5}
# SNAPSHOTS points along the run come back as $OUT/stepNNNNNN.safetensors (fp16, about 10 MB each), for
# a rule to judge here: the early part of a run has been the part that ships. 3 snapshots, the export,
# the log, the curves and train.log are 7 of the 8 files that come back; SNAPSHOTS=0 for two runs side by side
SNAPSHOTS=${SNAPSHOTS:-3}
SNAPSHOT_MINUTES=$(awk -v m="$MINUTES" -v n="$SNAPSHOTS" 'BEGIN { print (n > 0 ? m / n : 0) }')
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
    --export "$OUT/export_fp16.safetensors" --snapshot-minutes "$SNAPSHOT_MINUTES" --snapshot-dir "$OUT" "$@" 2>&1 | stdbuf -oL tr '\r' '\n' | grep --line-buffered -v '^epoch .*it/s' | tee "$OUT/train.log" \
    || status=$?
cp "$RUN_DIR/log.csv" "$RUN_DIR/curves.png" "$OUT/" || true  # whatever the run got to, bring it back
exit "${status:-0}"
