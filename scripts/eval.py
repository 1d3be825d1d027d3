#!/usr/bin/env python
"""Evaluate weights on a split of a person-seg style folder, through the app's Segmenter path.

    python scripts/eval.py --data ../shared/data/person-seg --split val \
        --weights models/fastvit_t8_person.safetensors [--wide] [--worst-grid worst.png] [--json out.json]

--wide places each image in a 1280x720 frame on a scene from --backgrounds, as a webcam frame would be.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fastvit_fx.segment import open_segmenter  # noqa: E402
from fastvit_fx.segment.input_size import InputSizes  # noqa: E402
from fastvit_fx.segment.segmenter import TILE_CHOICES  # noqa: E402
from fastvit_fx.training.data import load_backgrounds, read_manifest  # noqa: E402
from fastvit_fx.training.evaluate import (STANDING_SOURCES, evaluate, evaluate_pasted_groups,  # noqa: E402
                                          evaluate_video)


def worst_grid(worst, out: Path, tile: int = 200) -> None:
    """Rows of (frame, truth, prediction) for the worst images, IoU written on each row."""
    rows = []
    for score, name, frame, truth, pred in worst:
        def fit(img):
            img = img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
            s = tile / max(img.shape[:2])
            img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)))
            canvas = np.zeros((tile, tile, 3), np.uint8)
            canvas[: img.shape[0], : img.shape[1]] = img
            return canvas

        row = np.hstack([fit(frame), fit(truth), fit(pred)])
        cv2.putText(row, f"{name} IoU {score:.2f}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 255), 1)
        rows.append(row)
    cv2.imwrite(str(out), np.vstack(rows))


def report_video(result: dict, seg, args) -> int:
    print(f"{'sequence':32s} {'source':18s} {'n':>4s} {'mIoU':>7s} {'flicker':>8s}")
    for name, r in result["sequences"].items():
        print(f"{name:32s} {r['source']:18s} {r['n']:4d} {r['miou']:7.4f} {r['flicker']:8.4f}")
    print(f"{'mean over sequences':32s} {'':18s} {'':4s} {result['miou']:7.4f} {result['flicker']:8.4f}")
    print(f"{'flicker weighted by frame pairs':32s} {'':18s} {'':4s} {'':7s} {result['flicker_by_pairs']:8.4f}")
    if args.json:
        result.update(weights=str(seg.weights), backend=seg.backend_name, size=seg.size, sizes=asdict(seg.sizes),
                      split=args.split)
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


def report_groups(seg, items, backgrounds, args) -> int:
    if len(items) < args.paste_group:
        print(f"error: {args.data}: --paste-group {args.paste_group} needs that many full-body "
              f"'{args.split}' photos, found {len(items)}", file=sys.stderr)
        return 2
    result = evaluate_pasted_groups(seg, items, backgrounds, people=args.paste_group)
    px = result["pixels"]
    print(f"groups of {args.paste_group} pasted small: {result['n']} frames, mIoU {result['miou']:.4f}; person pixels "
          f"pooled: {px['true']:,} found, {px['false']:,} painted where no person is, {px['missed']:,} missed")
    if args.json:
        result.update(weights=str(seg.weights), backend=seg.backend_name, sizes=asdict(seg.sizes), split=args.split,
                      paste_group=args.paste_group)
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


def chosen_sizes(sizes: InputSizes, args) -> InputSizes:
    """The Segmenter's input sizes with the ones asked for on the command line (0: off)."""
    changes = {}
    if args.large_size is not None:
        changes["large"] = args.large_size or None
    if args.large_from is not None:
        changes["large_from"] = args.large_from
    if args.small_size is not None:
        changes["small"] = args.small_size or None
    return replace(sizes, **changes)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--weights", default=None)
    p.add_argument("--backend", default="auto")
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--wide", action="store_true", help="evaluate inside 16:9 1280x720 frames")
    p.add_argument("--paste-height", type=float, default=None,
                   help="paste each person, cut out, this fraction of a 1280x720 frame tall at a random "
                        "place on a --backgrounds scene (someone across the room)")
    p.add_argument("--paste-group", type=int, default=0, metavar="N",
                   help="groups of N small people (5-15%% of a 1280x720 frame tall) pasted on --backgrounds scenes, "
                        "from the full-body photos: one frame per photo")
    p.add_argument("--rotate", type=int, default=0, choices=(0, 90, 180, 270),
                   help="turn each photo and its truth clockwise first: people lying down (90, 270) or "
                        "upside down (180)")
    p.add_argument("--backgrounds", default=None)
    p.add_argument("--worst-grid", default=None, help="write a PNG of the worst images here")
    p.add_argument("--worst", type=int, default=8)
    p.add_argument("--json", default=None, help="write the numbers here, with each image's IoU (per_image)")
    p.add_argument("--source", action="append", default=None, metavar="NAME",
                   help="score only this source's images and sequences (repeatable; default: every source; "
                        "the others still take their turn at the scenes, so scores match a full run's; "
                        "--paste-group always draws from the full-body photos)")
    p.add_argument("--no-zoom", dest="zoom", action="store_false",
                   help="one network pass per image (no closer look at small people)")
    p.add_argument("--video", action="store_true",
                   help="run each video sequence of the split in frame order through one smoothing Segmenter "
                        "(as the app runs a camera) and report per-sequence mIoU and flicker")
    p.add_argument("--grey-guide", dest="color_guide", action="store_false",
                   help="guided upsampling by grey, not colour (the older default, for comparison)")
    p.add_argument("--tiles", choices=TILE_CHOICES, default=None,
                   help="the tiled look at stills of small people: off, on (held to the first look) or unheld "
                        "(default: the app's)")
    p.add_argument("--still-zoom-blend", type=float, default=None,
                   help="a still's zoomed look blended with its first look over the crop, this much of the "
                        "zoomed one (1: replaces it; default: the app's)")
    p.add_argument("--flip", action="store_true",
                   help="every look also at the mirrored frame, the two averaged (twice the network's time)")
    p.add_argument("--flip-people", default=None, metavar="LOW,HIGH",
                   help="stills: mirror every look where the first look's tallest person is within [LOW, HIGH) "
                        "of the frame's height ('off': none; default: the app's)")
    p.add_argument("--large-size", type=int, default=None,
                   help="input size for frames whose tallest person found is at least --large-from of the "
                        "frame (0: the base size; default: the app's)")
    p.add_argument("--large-from", type=float, default=None)
    p.add_argument("--small-size", type=int, default=None,
                   help="input size for frames whose people are all small (0: the base size; default: the app's)")
    args = p.parse_args(argv)
    try:
        items = read_manifest(args.data, args.split)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.source:
        known = {it.source for it in items}
        unknown = [name for name in args.source if name not in known]
        if unknown:
            print(f"error: --source {unknown[0]}: no such source in {args.data} "
                  f"(known: {', '.join(sorted(known))})", file=sys.stderr)
            return 2
    if not items:
        print(f"error: {args.data}: no '{args.split}' rows in manifest.csv", file=sys.stderr)
        return 2
    flip_people = None
    if args.flip_people is not None:
        try:
            flip_people = parse_band(args.flip_people)
        except ValueError as exc:
            print(f"error: --flip-people {args.flip_people}: {exc}", file=sys.stderr)
            return 2
    if args.still_zoom_blend is not None and not 0.0 <= args.still_zoom_blend <= 1.0:
        print(f"error: --still-zoom-blend {args.still_zoom_blend:g}: a weight in [0, 1]", file=sys.stderr)
        return 2
    seg = open_segmenter(args.weights, backend=args.backend, size=args.size, device="cpu", zoom=args.zoom,
                         smooth=args.video)
    seg.color_guide = args.color_guide
    seg.sizes = chosen_sizes(seg.sizes, args)
    if args.still_zoom_blend is not None:
        seg.still_zoom_blend = args.still_zoom_blend
    seg.flip_average = args.flip
    if args.flip_people is not None:
        seg.flip_people = flip_people
    if args.tiles is not None:
        seg.tile_small_people, seg.tile_hold = TILE_CHOICES[args.tiles]
    if args.video:
        return report_video(evaluate_video(seg, [it for it in items if not args.source or it.source in args.source]),
                            seg, args)
    bgs = load_backgrounds(args.backgrounds) if args.wide or args.paste_height or args.paste_group else None
    if args.paste_group:
        return report_groups(seg, [it for it in items if it.source in STANDING_SOURCES], bgs, args)
    result = evaluate(seg, items, wide=args.wide, backgrounds=bgs, keep_worst=args.worst if args.worst_grid else 0,
                      paste_height=args.paste_height, rotate=args.rotate,
                      sources=set(args.source) if args.source else None)
    worst = result.pop("worst", None)
    if worst and args.worst_grid:
        worst_grid(worst, Path(args.worst_grid))
    result.update(weights=str(seg.weights), backend=seg.backend_name, size=seg.size, sizes=asdict(seg.sizes),
                  wide=args.wide,
                  paste_height=args.paste_height, rotate=args.rotate, flip=args.flip, flip_people=seg.flip_people,
                  split=args.split)
    print(f"{'source':24s} {'n':>4s} {'mIoU':>7s} {'boundary F':>11s} {'true px':>11s} {'false px':>11s} "
          f"{'missed px':>11s}")
    for source, r in result["sources"].items():
        px = r["pixels"]
        print(f"{source:24s} {r['n']:4d} {r['miou']:7.4f} {r['boundary_f']:11.4f} {px['true']:11,d} "
              f"{px['false']:11,d} {px['missed']:11,d}")
    print(f"{'all':24s} {result['n']:4d} {result['miou']:7.4f} {result['boundary_f']:11.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


def parse_band(text: str) -> tuple[float, float] | None:
    """'LOW,HIGH' -> (low, high), fractions of the frame's height; 'off' -> None."""
    if text == "off":
        return None
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError("expected LOW,HIGH (fractions of the frame's height) or 'off'")
    low, high = (float(x) for x in parts)
    if not 0.0 <= low < high:
        raise ValueError("expected 0 <= LOW < HIGH")
    return low, high


if __name__ == "__main__":
    sys.exit(main())
