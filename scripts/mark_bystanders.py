#!/usr/bin/env python
"""A copy of the training data whose full-body masks mark the bystanders as not labelled (128).

The full-body set labels one standing person and leaves the people behind them at 0, so training on
it teaches that pedestrians in a street are background. This marks the people OpenCV's HOG people
detector finds away from the labelled person as 128: training then gives them no loss and does not
match the teacher there (training/data.py, TAUGHT_WHERE_LABELLED).

    python scripts/mark_bystanders.py --data ../shared/data/person-seg --out runs/person-seg-bystanders

The copy links the images and every mask it leaves alone, and writes the marked masks and
bystanders.json (per mask: boxes marked, share of the picture marked). The detector is OpenCV 4's
(`cv2.HOGDescriptor_getDefaultPeopleDetector`); OpenCV 5 no longer has it in its main modules, so run
this where `opencv-python-headless<5` is installed (a venv of its own is enough: it needs only numpy).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

IGNORE = 128  # as fastvit_fx.training.augment.IGNORE; the script runs without the package installed


def people_detector():
    if not hasattr(cv2, "HOGDescriptor"):
        raise RuntimeError(f"OpenCV {cv2.__version__} has no HOG people detector: run this with "
                           "opencv-python-headless<5 (pip install 'opencv-python-headless<5' in a venv of its own)")
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def detect_people(hog, img: np.ndarray, scale: float) -> list[tuple[float, float, float, float]]:
    """(x, y, w, h) boxes in img's pixels; the picture is enlarged by `scale` first, since the
    detector's window (64x128) is larger than the people far behind."""
    big = cv2.resize(img, None, fx=scale, fy=scale)
    rects, _ = hog.detectMultiScale(big, winStride=(8, 8), padding=(8, 8), scale=1.05, hitThreshold=0.0)
    return [tuple(v / scale for v in r) for r in (rects if len(rects) else [])]


def mark_bystanders(mask: np.ndarray, boxes, max_person_share: float = 0.15,
                    grow: float = 0.1) -> tuple[np.ndarray, int]:
    """(mask with each bystander box's unlabelled-as-background pixels set to IGNORE, boxes marked).
    A box holding `max_person_share` or more of labelled person is the labelled person, not a
    bystander; boxes grow by `grow` of their width (half that of their height) since HOG's are tight.
    Person pixels stay person."""
    out = mask.copy()
    person = mask > 127
    h, w = mask.shape
    marked = 0
    for x, y, bw, bh in boxes:
        x0, y0 = int(max(x - grow * bw, 0)), int(max(y - grow / 2 * bh, 0))
        x1, y1 = int(min(x + (1 + grow) * bw, w)), int(min(y + (1 + grow / 2) * bh, h))
        if x1 <= x0 or y1 <= y0 or person[y0:y1, x0:x1].mean() >= max_person_share:
            continue
        region = out[y0:y1, x0:x1]
        region[region < 64] = IGNORE
        marked += 1
    return out, marked


def _link(src: Path, dst: Path) -> None:
    if dst.exists() or dst.is_symlink():
        return
    try:
        os.symlink(src.resolve(), dst)
    except OSError:  # no symlinks here: a copy
        shutil.copyfile(src, dst)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="the dataset (manifest.csv, images/, masks/)")
    ap.add_argument("--out", required=True, help="where the marked copy goes (created)")
    ap.add_argument("--source", default="clothing-co-parsing", help="the source whose bystanders to mark")
    ap.add_argument("--split", default="train", help="the split to mark (val stays as its truth)")
    ap.add_argument("--scale", type=float, default=2.0, help="enlarge pictures this much for the detector")
    args = ap.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    manifest = data / "manifest.csv"
    if not manifest.exists():
        print(f"mark_bystanders: {manifest}: no manifest.csv there", file=sys.stderr)
        return 2
    try:
        hog = people_detector()
    except RuntimeError as e:
        print(f"mark_bystanders: {e}", file=sys.stderr)
        return 2
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    (out / "masks").mkdir(parents=True, exist_ok=True)
    _link(data / "images", out / "images")
    shutil.copyfile(manifest, out / "manifest.csv")
    report = {}
    for row in rows:
        src, dst = data / row["mask"], out / row["mask"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        if row["split"] != args.split or row["source"] != args.source:
            _link(src, dst)
            continue
        img = cv2.imread(str(data / row["image"]), cv2.IMREAD_COLOR)
        mask = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
        if img is None or mask is None:
            print(f"mark_bystanders: cannot read {data / row['image'] if img is None else src}", file=sys.stderr)
            return 2
        if mask.shape != img.shape[:2]:
            mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
        marked_mask, n = mark_bystanders(mask, detect_people(hog, img, args.scale))
        if n:
            cv2.imwrite(str(dst), marked_mask)
            report[Path(row["mask"]).stem] = [n, float((marked_mask == IGNORE).mean())]
        else:
            _link(src, dst)
    (out / "bystanders.json").write_text(json.dumps(report))
    print(f"{len(report)} {args.source} {args.split} masks with bystanders marked, "
          f"{sum(v[0] for v in report.values())} boxes -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
