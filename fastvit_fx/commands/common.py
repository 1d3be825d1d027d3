"""Options and helpers shared by several subcommands."""
from __future__ import annotations

import argparse
import glob
import logging
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
    parser.add_argument("-v", "--verbose", action=_Verbose, nargs=0,
                        help="also show what the libraries say (exporter and quantiser warnings) and debug notes")


class _Verbose(argparse.Action):
    """-v turns on verbose logging as soon as it is parsed, before any model or runtime loads."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, True)
        show_debug_logging()


def show_debug_logging() -> logging.Handler:
    """Everything fastvit-fx logs, down to DEBUG (where library warnings are kept), one line each on
    stderr. Without it only our warnings reach stderr (Python's last-resort handler), as bare lines."""
    logger = logging.getLogger("fastvit_fx")
    for handler in logger.handlers:
        if getattr(handler, "fastvit_fx_verbose", False):
            return handler
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("fastvit-fx: %(name)s: %(message)s"))
    handler.fastvit_fx_verbose = True
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


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
