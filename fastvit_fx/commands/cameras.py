"""`fastvit-fx cameras`: the cameras OpenCV can open (indices 0-9, probed quietly), then the virtual
cameras the app can send to (`--virtual-camera`)."""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--max", type=int, default=10, metavar="N", help="probe indices 0..N-1 (default 10)")


def run(args) -> int:
    from ..io.capture import list_cameras
    from ..live.virtual_camera import print_virtual_cameras

    cameras = list_cameras(max(args.max, 1))
    if not cameras:
        print(f"no cameras found (probed indices 0-{max(args.max, 1) - 1}); try `fastvit-fx --source demo`")
        print_virtual_cameras()
        return 1
    for cam in cameras:
        fps = f" @ {cam['fps']:g} fps" if cam["fps"] else ""
        backend = f"  ({cam['backend']})" if cam["backend"] else ""
        print(f"{cam['index']}: {cam['width']}x{cam['height']}{fps}{backend}   fastvit-fx --camera {cam['index']}")
    print_virtual_cameras()
    return 0
