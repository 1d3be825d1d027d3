"""The virtual camera: the effected picture (never the HUD) as a webcam other apps can open - Zoom, Meet,
Teams, OBS - through pyvirtualcam (the optional extra `fastvit-fx[virtualcam]`; pyvirtualcam is GPL-2.0).

    sink = VirtualCameraSink(1280, 720, fps=30)
    sink.start()                 # VirtualCameraError: one line saying what to install or load
    session.add_sink(sink)       # __call__ only drops the picture in a one-slot mailbox: never blocks
    sink.stop()

Its own thread sends the newest picture at the camera's rate (the last one again when the render loop is
slower, so the apps watching never stall), converted to a pixel format the device takes, preferring the
device's own so that no second conversion happens in the backend.
"""
from __future__ import annotations

import enum
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..io.capture import Mailbox
from ..errors import UserError
from .step import Output

INSTALL_EXTRA = "pip install 'fastvit-fx[virtualcam]'"
LINUX_LOAD = 'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="fastvit-fx"'
SYSFS_VIDEO = Path("/sys/devices/virtual/video4linux")  # only virtual devices (v4l2loopback) live here

# pyvirtualcam format name -> how to make it from our BGR picture. Tried in this order unless the
# device says it prefers another one of these.
CONVERTERS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "BGR": None,
    "RGB": lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
    "I420": lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420),
    "RGBA": lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA),
}


class VirtualCameraError(UserError):
    """No virtual camera to send to; the one-line message says what to install or load."""


class VirtualCameraState(enum.Enum):
    ON = "on"
    OFF = "off"
    FAILED = "failed"  # could not start (no device, no pyvirtualcam) or the device went away


@dataclass(frozen=True)
class VirtualCameraSettings:
    """What the user chose. mirror None: as the window shows it (the M key); True / False: always
    mirrored / never, whatever the window does (call apps often mirror the self-view themselves)."""

    device: str | None = None  # e.g. /dev/video10; None: the first free one
    mirror: bool | None = None
    backend: str | None = None  # a pyvirtualcam backend name; None: any that works
    fps: float | None = None  # None: the camera's rate


def no_device_message(platform: str = sys.platform) -> str:
    """One line: what to install or load so that a virtual camera exists on this platform."""
    if platform.startswith("linux"):
        return ("virtual camera: no v4l2loopback device found; install v4l2loopback (Debian/Ubuntu: "
                f"sudo apt install v4l2loopback-dkms) and load it with: {LINUX_LOAD}")
    if platform == "darwin":
        return ("virtual camera: none found; install OBS Studio 30 or newer and click 'Start Virtual Camera' once "
                "(that installs the camera extension)")
    return ("virtual camera: none found; install OBS Studio 28 or newer and start its virtual camera once, "
            "or install Unity Capture")


def _import_pyvirtualcam():
    try:
        import pyvirtualcam
    except ImportError:
        raise VirtualCameraError(f"virtual camera: pyvirtualcam is not installed; {INSTALL_EXTRA}") from None
    return pyvirtualcam


def _explain(exc: Exception, device: str | None) -> str:
    """pyvirtualcam's multi-line error -> one line naming the device and what to do."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    lowered = text.lower()
    where = f"virtual camera {device}" if device else "virtual camera"
    if device and ("does not exist" in lowered or "not a v4l2" in lowered):
        fix = f"; to make one: {LINUX_LOAD}" if sys.platform.startswith("linux") else ""
        return f"{where}: not a virtual camera device ({text}){fix}"
    if "no v4l2 loopback device" in lowered or "not installed" in lowered or "not found" in lowered \
            or "not started" in lowered:
        return no_device_message()
    if "busy" in lowered or "could not be opened" in lowered:
        return f"{where}: in use by another program ({text})"
    return f"{where}: cannot open ({text})"


def open_camera(width: int, height: int, fps: float, *, device: str | None = None, backend: str | None = None,
                formats: tuple[str, ...] = tuple(CONVERTERS)):
    """A pyvirtualcam.Camera in the device's own format where we can make it, else the first of `formats`
    it takes. VirtualCameraError (one line) when there is no device or it won't open."""
    pyvirtualcam = _import_pyvirtualcam()

    def attempt(name: str):
        return pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat[name], device=device,
                                   backend=backend)

    camera, refusals = None, []
    for name in formats:
        try:
            camera = attempt(name)
            break
        except Exception as exc:
            if "format" not in str(exc).lower():  # no device, busy, bad size: no other format will help
                raise VirtualCameraError(_explain(exc, device)) from None
            refusals.append(name)
    if camera is None:
        where = f"virtual camera {device}" if device else "virtual camera"
        raise VirtualCameraError(f"{where}: takes none of the formats {', '.join(refusals)}")
    native = getattr(camera.native_fmt, "name", None)
    if native and native != camera.fmt.name and native in formats:
        chosen = camera.fmt.name
        camera.close()
        try:
            camera = attempt(native)  # the device's own format: the backend converts nothing
        except Exception:
            try:
                camera = attempt(chosen)
            except Exception as exc:
                raise VirtualCameraError(_explain(exc, device)) from None
    return camera


class VirtualCameraSink:
    """A sink (a callable taking an `Output`) that sends the picture to a virtual camera.

    shown_mirrored() says whether the pictures arriving are mirrored (the session's mirror toggle), so
    that settings.mirror True / False can give the same orientation whatever the window shows.
    """

    def __init__(self, width: int, height: int, fps: float = 30.0,
                 settings: VirtualCameraSettings = VirtualCameraSettings(),
                 shown_mirrored: Callable[[], bool] = lambda: False, camera_factory=open_camera) -> None:
        self.width, self.height = int(width) & ~1, int(height) & ~1  # I420 needs even sizes
        self.fps = float(settings.fps or fps or 30.0)
        self.settings = settings
        self.shown_mirrored = shown_mirrored
        self.camera_factory = camera_factory
        self.camera = None
        self.device: str | None = None
        self.format: str | None = None  # the pyvirtualcam format name being sent
        self.error: str | None = None
        self.frames_offered = 0
        self.frames_sent = 0
        self.pictures_sent = 0  # distinct pictures (the rest repeat the last one while none is new)
        self._mailbox = Mailbox()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.error is None

    def start(self) -> str:
        """Open the device (VirtualCameraError: one line on what to install or load) and start sending;
        returns the device's name."""
        self.camera = self.camera_factory(self.width, self.height, self.fps, device=self.settings.device,
                                          backend=self.settings.backend)
        self.device = str(self.camera.device)
        self.format = self.camera.fmt.name
        self.error = None
        self._stop.clear()
        self._mailbox = Mailbox()
        self._thread = threading.Thread(target=self._run, name="virtual-camera", daemon=True)
        self._thread.start()
        return self.device

    def __call__(self, output: Output) -> None:  # the render thread: never waits
        self.frames_offered += 1
        self._mailbox.put((output.image, self.shown_mirrored()))

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._mailbox.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self.camera is not None:
            try:
                self.camera.close()
            except Exception:
                pass
            self.camera = None

    # -- the sending thread -----------------------------------------------------------------------
    def device_picture(self, image: np.ndarray, mirrored: bool) -> np.ndarray:
        """The picture as the device takes it: the chosen orientation, the device's size and format."""
        want = self.settings.mirror
        if want is not None and want != mirrored:
            image = cv2.flip(image, 1)
        if image.shape[1] != self.width or image.shape[0] != self.height:  # the source changed size since
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        convert = CONVERTERS[self.format]
        return np.ascontiguousarray(image if convert is None else convert(image))

    def _run(self) -> None:
        camera, seen, picture = self.camera, 0, None
        try:
            while not self._stop.is_set():
                seq, item = self._mailbox.get(seen, timeout=0 if picture is not None else 0.1)
                if item is not None:
                    seen = seq
                    picture = self.device_picture(*item)
                    self.pictures_sent += 1
                if picture is None:
                    continue  # nothing rendered yet
                camera.send(picture)
                self.frames_sent += 1
                camera.sleep_until_next_frame()
        except Exception as exc:  # the device went away (module unloaded, another writer took it)
            self.error = f"virtual camera {self.device}: stopped ({' '.join(str(exc).split()) or type(exc).__name__})"


def list_virtual_cameras(sysfs: Path = SYSFS_VIDEO, probe: bool = True) -> list[dict]:
    """Virtual camera devices: on Linux the v4l2loopback ones (read from sysfs; nothing is opened);
    elsewhere the one pyvirtualcam opens (OBS, Unity Capture), when it is installed and probe is True."""
    if sys.platform.startswith("linux") or sysfs != SYSFS_VIDEO:
        found = []
        if sysfs.is_dir():
            for entry in sorted(sysfs.iterdir(), key=lambda p: (len(p.name), p.name)):
                if not entry.name.startswith("video"):
                    continue
                try:
                    name = (entry / "name").read_text().strip()
                except OSError:
                    name = ""
                found.append({"device": f"/dev/{entry.name}", "name": name or "v4l2loopback"})
        return found
    if not probe:
        return []
    try:
        pyvirtualcam = _import_pyvirtualcam()
        with pyvirtualcam.Camera(64, 64, 30) as camera:
            return [{"device": str(camera.device), "name": camera.backend}]
    except Exception:
        return []


def print_virtual_cameras(found: list[dict] | None = None) -> None:
    """The `cameras` command's section: each virtual camera with the option that picks it, or what to load."""
    found = list_virtual_cameras() if found is None else found
    if not found:
        print(f"no virtual camera for --virtual-camera; {no_device_message().split('; ', 1)[1]}")
        return
    print("virtual cameras (to send the effected picture to):")
    for cam in found:
        print(f"{cam['device']}: {cam['name']}   fastvit-fx --virtual-camera --virtual-camera-device {cam['device']}")
