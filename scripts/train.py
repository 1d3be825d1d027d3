#!/usr/bin/env python
"""Train FastViT + Semantic FPN person segmentation.

    python scripts/train.py --data ../shared/data/person-seg --backgrounds ../shared/data/backgrounds \
        --out runs/t8 --time-budget 120 --export models/fastvit_t8_person.safetensors

Re-running with the same --out resumes from runs/.../last.pt. Under torchrun it trains data-parallel.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastvit_fx.training.augment import parse_framing_names, parse_framings, parse_scene_scales  # noqa: E402
from fastvit_fx.model import ModelConfig  # noqa: E402
from fastvit_fx.training.loop import TrainConfig, parse_depths, train  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--time-budget", dest="time_budget_min", type=float, default=None, help="minutes")
    for f in fields(TrainConfig):
        if f.name in ("data", "time_budget_min"):
            continue
        typ = {"int": int, "float": float}.get(str(f.type).split(" ")[0], str)
        p.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=typ, default=f.default)
    args = p.parse_args(argv)
    if not Path(args.data, "manifest.csv").exists():
        print(f"error: {args.data}: no manifest.csv there", file=sys.stderr)
        return 2
    try:
        parse_framings(args.framings)
    except ValueError as exc:
        print(f"error: --framings: {exc}", file=sys.stderr)
        return 2
    try:
        parse_scene_scales(args.scene_scales)
    except ValueError as exc:
        print(f"error: --scene-scales: {exc}", file=sys.stderr)
        return 2
    try:
        parse_framing_names(args.label_framings)
    except ValueError as exc:
        print(f"error: --label-framings: {exc}", file=sys.stderr)
        return 2
    for name in ("colourful_clutter", "hue_turn", "outdoor_clutter", "flash_at_night"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            print(f"error: --{name.replace('_', '-')} {getattr(args, name):g}: a share in [0, 1]", file=sys.stderr)
            return 2
    try:
        ModelConfig(depths=parse_depths(args.depths))
    except ValueError as exc:
        print(f"error: --depths: {exc}", file=sys.stderr)
        return 2
    try:
        result = train(TrainConfig(**vars(args)))
    except ValueError as exc:  # --init / --teacher files and names that do not fit: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = f"best val mIoU {result['best']:.4f}" if result["val"] else "no val set: the last epoch ships"
    print(f"done: step {result['step']}, {chosen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
