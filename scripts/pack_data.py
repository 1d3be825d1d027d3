#!/usr/bin/env python3
"""Pack the training data small enough to travel to a lent GPU machine (64 MiB with the repo).

The person-seg photos are 117 MB as JPEG at 512 px, but training reads them at most 400 px on the
longest side (AugmentedPeople's max_side) and backgrounds at 480 px: packing at those sizes as WebP
loses nothing training would see except a little re-encoding. Masks stay lossless PNG.

    python scripts/pack_data.py --src ../shared/data --out pack
    python scripts/train.py --data pack/person-seg --backgrounds pack/backgrounds ...

Writes OUT/person-seg/{images,masks,manifest.csv} and OUT/backgrounds/, and the same as one archive,
OUT.zip, which is what travels (`carry=["pack.zip"]`; scripts/gpu_train.sh unpacks it): the device
tool refused the folder's 7,000 small files although their bytes fit, and took the one archive.
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastvit_fx.training.data import fit_longest_side, load_pair, read_manifest  # noqa: E402


def _write(path: Path, img, params) -> None:
    if not cv2.imwrite(str(path), img, params):
        raise OSError(f"{path}: could not write (disk full or unwritable folder?)")


def pack_people(src: Path, out: Path, max_side: int, quality: int, split: str | None = None) -> int:
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(exist_ok=True)
    with open(src / "manifest.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if split is None or row.get("split") == split]
    items = read_manifest(src, split)
    if not rows:
        return 0
    if len(items) != len(rows):
        raise ValueError(f"{src / 'manifest.csv'}: {len(rows)} rows but {len(items)} readable items")
    for row, item in zip(rows, items):
        img, mask = load_pair(item, max_side)  # the same downscale training applies
        stem = Path(row["image"]).stem
        row["image"], row["mask"] = f"images/{stem}.webp", f"masks/{stem}.png"
        _write(out / row["image"], img, [cv2.IMWRITE_WEBP_QUALITY, quality])
        _write(out / row["mask"], mask, [cv2.IMWRITE_PNG_COMPRESSION, 9])  # soft edges, as training sees them
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def pack_backgrounds(src: Path, out: Path, max_side: int, quality: int) -> int:
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for p in sorted(src.iterdir()):
        if p.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp"):
            continue
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"{p}: unreadable image")
        _write(out / f"{p.stem}.webp", fit_longest_side(img, max_side), [cv2.IMWRITE_WEBP_QUALITY, quality])
        n += 1
    return n


def archive(folder: Path) -> Path:
    """FOLDER.zip beside the folder, its files under FOLDER/ (unpacked where it lands, it is the folder
    again). WebP and PNG barely shrink further; the archive is for the file count, not the bytes."""
    made = shutil.make_archive(str(folder), "zip", root_dir=folder.parent, base_dir=folder.name)
    return Path(made)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


REPO = Path(__file__).resolve().parents[1]
TRAVEL_LIMIT_MIB = 64  # the device tool sends the working tree and the carried pack, at most this much


def tree_bytes(repo: Path) -> int | None:
    """Bytes of what the device tool sends from `repo` besides the carried pack (tracked files and
    untracked ones git does not ignore), or None outside a git checkout."""
    try:
        listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    files = (repo / name for name in listed.decode().split("\0") if name)
    return sum(f.stat().st_size for f in files if f.is_file())


def travel_error(pack_bytes: int, tree_size: int, out: Path, limit_mib: float = TRAVEL_LIMIT_MIB) -> str | None:
    """The one-line reason the pack and the tree would not travel together, or None where they fit."""
    total = (pack_bytes + tree_size) / 2**20
    if total <= limit_mib:
        return None
    return (f"{out}: the pack ({pack_bytes / 2**20:.1f} MiB) and the rest of the working tree ({tree_size / 2**20:.1f} MiB) "
            f"make {total:.1f} MiB, over the {limit_mib:g} MiB the device tool sends; pack again with a lower "
            f"--quality or --max-side, or move weights out of the tree")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=Path("../shared/data"),
                    help="folder holding person-seg/ and (optionally) backgrounds/")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--max-side", type=int, default=400, help="photos: training reads them at 400 px")
    ap.add_argument("--background-side", type=int, default=480, help="training reads scenes at 480 px")
    ap.add_argument("--quality", type=int, default=82, help="WebP quality of the photos")
    ap.add_argument("--split", default=None,
                    help="only this split's pairs (train: a device run that does not validate needs no val)")
    args = ap.parse_args(argv)
    people = args.src / "person-seg"
    if not (people / "manifest.csv").exists():
        print(f"error: {people}: no manifest.csv there", file=sys.stderr)
        return 2
    n = pack_people(people, args.out / "person-seg", args.max_side, args.quality, args.split)
    if n == 0:
        print(f"error: {people / 'manifest.csv'}: no '{args.split}' rows", file=sys.stderr)
        return 2
    m = 0
    if (args.src / "backgrounds").is_dir():
        m = pack_backgrounds(args.src / "backgrounds", args.out / "backgrounds", args.background_side, args.quality)
    packed = archive(args.out)
    print(f"packed {n} pairs and {m} backgrounds into {args.out} ({folder_bytes(args.out) / 2**20:.1f} MiB) "
          f"and {packed} ({packed.stat().st_size / 2**20:.1f} MiB, the file to carry)")
    tree = tree_bytes(REPO)
    problem = travel_error(packed.stat().st_size, tree, packed) if tree is not None else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
