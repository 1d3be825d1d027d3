"""`fastvit-fx` / `fastvit-fx app`: the live window (camera, demo or a video file; hotkeys; recording)."""
from __future__ import annotations

import argparse

from .common import add_model_options


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--camera", type=int, default=None, metavar="N",
                        help="camera index (default: the last one used, else 0)")
    source.add_argument("--source", default=None, metavar="FILE|demo",
                        help="a video file (played in a loop) or 'demo' (the built-in scene, no camera needed)")
    parser.add_argument("--effect", default=None, metavar="NAME",
                        help="effect to start with (see `fastvit-fx effects`)")
    parser.add_argument("--record-dir", default=None, metavar="DIR",
                        help="folder for clips and snapshots (remembered; default ~/Videos/fastvit-fx)")
    parser.add_argument("--mask-mode", default=None, choices=("own", "carry"),
                        help="when segmentation is slower than the camera: show only the frames it looked at "
                        "(own), or every frame with a mask carried by optical flow (carry); remembered")
    add_model_options(parser)
    parser.set_defaults(backend=None)  # None: the backend remembered from last time (else auto)
    parser.add_argument("--settings", default=None, help=argparse.SUPPRESS)  # a private settings file (tests)
    parser.add_argument("--quit-after", type=float, default=None, help=argparse.SUPPRESS)  # smoke tests


def run(args) -> int:
    from ..app import run_app

    return run_app(args)
