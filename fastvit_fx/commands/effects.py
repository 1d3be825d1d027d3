"""`fastvit-fx effects`: list the effect presets (hotkey, name, description) and any broken preset
files, one line each. Exit status 1 if a preset file is broken. Imports no torch."""
from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("--folder", default=None, help="preset folder (default: the shipped effects/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show each preset's passes")


def run(args) -> int:
    from ..fx import load_presets

    presets = load_presets(args.folder)
    width = max((len(p.name) for p in presets), default=4)
    for p in presets:
        key = p.hotkey or "-"
        print(f"{key:>2}  {p.name:<{width}}  {p.description}")
        if args.verbose:
            for name, params in p.passes:
                shown = ", ".join(f"{k}={v}" for k, v in params.items())
                print(f"{'':>4}{'':<{width}}    {name}: {shown}")
    for line in presets.errors:
        print(f"fastvit-fx: broken preset: {line}", file=sys.stderr)
    return 1 if presets.errors else 0
