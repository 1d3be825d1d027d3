#!/usr/bin/env python3
"""Build models/calibration/: the webcam-like frames that the int8 ONNX backend calibrates on.

Activation ranges for int8 have to come from frames like the ones the app sees; the built-in demo
scene alone (one person, one room) cost 0.012 val mIoU on wide frames. These frames are composed
from redistributable sources only: people from Clothing Co-Parsing (Apache-2.0, train split) pasted
at webcam framings (head and shoulders, at a desk, small in the room, sometimes two people) onto the
MIT-licensed room and street backgrounds, through the training augmentation's camera faults.
Deterministic: the same data and seed give the same files.

    python scripts/make_calibration_set.py --data ../shared/data/person-seg \
        --backgrounds ../shared/data/backgrounds --out models/calibration
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastvit_fx.training.augment import camera_faults, paste_person, random_crop_to  # noqa: E402
from fastvit_fx.training.data import load_pair, read_manifest  # noqa: E402

FRAMINGS = ["close", "desk", "small"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "person-seg"))
    ap.add_argument("--backgrounds", default=str(ROOT.parent / "shared" / "data" / "backgrounds"))
    ap.add_argument("--out", default=str(ROOT / "models" / "calibration"))
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    people = [it for it in read_manifest(args.data, "train") if it.source == "clothing-co-parsing"]
    bg_root = Path(args.backgrounds)
    with open(bg_root / "manifest.csv", newline="") as f:
        bg_names = [r["image"] for r in csv.DictReader(f) if r["licence"].startswith("MIT")]
    if not people or not bg_names:
        raise SystemExit(f"make_calibration_set: no Apache-2.0 people in {args.data} or MIT scenes in {bg_root}")
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(args.count):
        h, w = (360, 640) if i % 4 else (480, 640)  # mostly 16:9, some 4:3 cameras
        mode = FRAMINGS[i % len(FRAMINGS)]
        person = people[int(rng.integers(len(people)))]
        bg_name = bg_names[int(rng.integers(len(bg_names)))]
        bg = cv2.imread(str(bg_root / bg_name), cv2.IMREAD_COLOR)
        frame = random_crop_to(bg, h, w, rng, min_scale=0.5).copy()
        label = np.zeros((h, w), np.uint8)
        img, mask = load_pair(person, 512)
        paste_person(frame, label, img, mask, mode, rng)
        used = [person.image.name]
        if mode == "small" and rng.random() < 0.5:
            other = people[int(rng.integers(len(people)))]
            paste_person(frame, label, *load_pair(other, 512), "small", rng)
            used.append(other.image.name)
        frame = camera_faults(frame, rng)
        name = f"calib-{i:02d}-{mode}.jpg"
        cv2.imwrite(str(out / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 88])
        rows.append((name, " + ".join(used), bg_name))
    with open(out / "SOURCES.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "people (Clothing Co-Parsing, Apache-2.0)", "background (MIT)"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} frames to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
