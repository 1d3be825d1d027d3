"""Options and helpers shared by several subcommands."""
from __future__ import annotations

import argparse
import glob
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default=None, help="weights file (default: the one shipped in models/)")
    from ..backends import BACKENDS

    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument("--size", type=int, default=None, help="network input size, longest side (default: the model's)")
    parser.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda, mps (default: best available)")
    parser.add_argument("--no-zoom", dest="zoom", action="store_false",
                        help="do not take a closer look at people small in the frame (one network pass a frame)")


def make_segmenter(args, smooth: bool = False):
    """The Segmenter the options ask for (fastvit_fx.segment.open_segmenter, like every command)."""
    from ..segment import open_segmenter

    return open_segmenter(args.weights, backend=args.backend, size=args.size, device=args.device, smooth=smooth,
                          zoom=getattr(args, "zoom", True))


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """Files, folders (their images, sorted) and globs -> (image paths, inputs that matched nothing)."""
    found: list[Path] = []
    missing: list[str] = []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.exists():
            found.append(path)
        elif glob.has_magic(spec):
            matches = sorted(Path(p) for p in glob.glob(spec) if Path(p).is_file())
            found.extend(matches) if matches else missing.append(spec)
        else:
            missing.append(spec)
    return found, missing
