"""`fastvit-fx` command line: the app by default, subcommands for everything else.

Each subcommand lives in fastvit_fx/commands/NAME.py with `add_arguments(parser)` and
`run(args) -> int`; this file only dispatches, so imports stay lazy (no torch for `effects`).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

SUBCOMMANDS = {
    "app": "launch the live app (the default when no subcommand is given)",
    "segment": "write one 8-bit PNG person mask per image",
    "render": "apply an effect to a video file, offline",
    "export": "write runtime model files (coreml, onnx)",
    "bench": "measure segmentation, effects and pipeline speed",
    "effects": "list the effect presets",
    "cameras": "list the cameras OpenCV can open",
}


class CliError(Exception):
    """Bad input: printed as one line `fastvit-fx: error: ...`, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastvit-fx", description="Live webcam effects with person segmentation.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in SUBCOMMANDS.items():
        if importlib.util.find_spec(f"fastvit_fx.commands.{name}") is None:
            continue  # a subcommand still being built is simply not offered
        module = importlib.import_module(f"fastvit_fx.commands.{name}")
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["app", *argv]  # `fastvit-fx --effect snow` launches the app
    args = build_parser().parse_args(argv)
    from .memory import keep_freed_buffers, release_every

    if keep_freed_buffers():  # per-frame temporaries stop page-faulting (fastvit_fx/memory.py) ...
        release_every(30.0)  # ... and the heap still gives back what it no longer uses
    module = importlib.import_module(f"fastvit_fx.commands.{args.command}")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every known failure becomes one line naming the file/device/key
        from .errors import describe

        message = describe(exc)
        if message is None:
            raise
        print(f"fastvit-fx: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
