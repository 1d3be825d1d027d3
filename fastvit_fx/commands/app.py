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
    parser.add_argument("--record-raw", action="store_true",
                        help="every clip also records the camera as captured beside it (NAME-raw.mp4), to "
                        "re-render later with `fastvit-fx render NAME-raw.mp4 --effect ... --quality high`")
    parser.add_argument("--no-sound", action="store_true",
                        help="record clips without the microphone (by default they carry its sound, when there "
                        "is one and the sound extra is installed)")
    parser.add_argument("--virtual-camera", action="store_true",
                        help="send the effected picture (no HUD) to a virtual camera for Zoom, Meet, Teams, OBS "
                        "(needs the virtualcam extra; toggle with V)")
    parser.add_argument("--virtual-camera-device", default=None, metavar="DEV",
                        help="which virtual camera, e.g. /dev/video10 (default: the first free one)")
    parser.add_argument("--virtual-camera-mirror", default=None, choices=("on", "off"),
                        help="mirror what the virtual camera sends, whatever the window shows "
                        "(default: as the window shows it, M)")
    add_model_options(parser)
    parser.set_defaults(backend=None)  # None: the backend remembered from last time (else auto)
    parser.add_argument("--settings", default=None, help=argparse.SUPPRESS)  # a private settings file (tests)
    parser.add_argument("--quit-after", type=float, default=None, help=argparse.SUPPRESS)  # smoke tests


def run(args) -> int:
    from ..app import run_app

    return run_app(args)
