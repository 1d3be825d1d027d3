"""The virtual camera sink, against a fake pyvirtualcam backend registered through pyvirtualcam's own
backend registry (frames, pixel format, size, mirroring, pacing, never blocking), plus a real
v4l2loopback device where one exists."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

pyvirtualcam = pytest.importorskip("pyvirtualcam", reason="pyvirtualcam (the virtualcam extra) is not installed")
from pyvirtualcam.util import decode_fourcc, encode_fourcc  # noqa: E402

from fastvit_fx.io.capture import Frame  # noqa: E402
from fastvit_fx.live.step import Output  # noqa: E402
from fastvit_fx.live.virtual_camera import (VirtualCameraError, VirtualCameraSettings,  # noqa: E402
                                            VirtualCameraSink, list_virtual_cameras, no_device_message,
                                            open_camera)


@pytest.fixture(autouse=True)
def forget_fake_backend():
    """pyvirtualcam's registry is global: the fake backend must not outlive the test that made it."""
    yield
    pyvirtualcam.camera.BACKENDS.pop("fake", None)


def fake_backend(accepts=("RGB", "BGR", "I420", "RGBA"), native=None, send_seconds=0.0, fail=None):
    """A pyvirtualcam backend class that keeps what it is sent (and when), registered as 'fake'."""
    sent: list[tuple[float, np.ndarray]] = []
    opened: list[dict] = []

    class FakeBackend:
        def __init__(self, *, width, height, fps, fourcc, device, **kw):
            if fail:
                raise RuntimeError(fail)
            fmt = decode_fourcc(fourcc)
            names = {pyvirtualcam.PixelFormat[n].value: n for n in accepts}
            if fmt not in names:
                raise RuntimeError("Unsupported image format.")
            self.fmt = names[fmt]
            opened.append({"width": width, "height": height, "fps": fps, "format": self.fmt, "device": device})
            self.closed = False

        def send(self, frame):
            sent.append((time.perf_counter(), frame.copy()))
            if send_seconds:
                time.sleep(send_seconds)

        def close(self):
            self.closed = True

        def device(self):
            return "fake0"

        def native_fourcc(self):
            return encode_fourcc(pyvirtualcam.PixelFormat[native].value) if native else None

    pyvirtualcam.register_backend("fake", FakeBackend)
    return sent, opened


def output(image: np.ndarray, seq: int = 1) -> Output:
    return Output(image, Frame(image, time.monotonic(), seq), None, seq, "test", time.monotonic())


def wait_for(condition, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_frames_arrive_in_the_format_the_device_takes():
    sent, opened = fake_backend(accepts=("RGB",))  # a device that refuses BGR
    sink = VirtualCameraSink(64, 48, fps=30, settings=VirtualCameraSettings(backend="fake"))
    assert sink.start() == "fake0"
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (255, 0, 0)  # blue on the left, in BGR
    sink(output(image))
    assert wait_for(lambda: len(sent) >= 2)
    sink.stop()
    assert sink.format == "RGB" and opened[-1]["format"] == "RGB"
    frame = sent[-1][1].reshape(48, 64, 3)
    assert tuple(frame[10, 5]) == (0, 0, 255)  # blue as RGB
    assert tuple(frame[10, 50]) == (0, 0, 0)


def test_the_devices_own_format_is_preferred():
    sent, opened = fake_backend(native="I420")
    sink = VirtualCameraSink(64, 48, fps=30, settings=VirtualCameraSettings(backend="fake"))
    sink.start()
    grey = np.full((48, 64, 3), 128, np.uint8)
    sink(output(grey))
    assert wait_for(lambda: len(sent) >= 1)
    sink.stop()
    assert sink.format == "I420" and opened[-1]["format"] == "I420"
    frame = sent[-1][1]
    assert frame.size == 64 * 48 * 3 // 2
    assert abs(int(frame[0]) - 128) <= 2  # luma of mid grey


def test_size_and_rate_are_the_cameras_and_other_sizes_are_scaled():
    sent, opened = fake_backend(accepts=("BGR",))
    sink = VirtualCameraSink(64, 48, fps=24, settings=VirtualCameraSettings(backend="fake"))
    sink.start()
    sink(output(np.full((96, 128, 3), 7, np.uint8)))  # the source changed size: scaled to the device's
    assert wait_for(lambda: len(sent) >= 1)
    sink.stop()
    assert opened[-1]["width"] == 64 and opened[-1]["height"] == 48 and opened[-1]["fps"] == 24
    assert sent[-1][1].size == 64 * 48 * 3 and int(sent[-1][1].max()) == 7


@pytest.mark.parametrize("want, shown, flipped", [(None, True, False), (None, False, False),
                                                   (False, True, True), (True, False, True), (True, True, False)])
def test_mirroring_as_chosen(want, shown, flipped):
    sent, _ = fake_backend(accepts=("BGR",))
    sink = VirtualCameraSink(64, 48, fps=30, settings=VirtualCameraSettings(backend="fake", mirror=want),
                             shown_mirrored=lambda: shown)
    sink.start()
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :10] = 200  # a bar on the left of what the window shows
    sink(output(image))
    assert wait_for(lambda: len(sent) >= 1)
    sink.stop()
    frame = sent[-1][1].reshape(48, 64, 3)
    left, right = int(frame[:, :10].mean()), int(frame[:, -10:].mean())
    assert (left, right) == ((0, 200) if flipped else (200, 0))


def test_sends_at_the_cameras_rate_repeating_the_last_picture():
    sent, _ = fake_backend(accepts=("BGR",))
    fps = 20.0
    sink = VirtualCameraSink(32, 32, fps=fps, settings=VirtualCameraSettings(backend="fake"))
    sink.start()
    sink(output(np.zeros((32, 32, 3), np.uint8)))  # one picture only: the device still gets a steady stream
    time.sleep(1.6)
    sink.stop()
    times = np.array([t for t, _ in sent])
    assert 22 <= len(times) <= 36, len(times)  # about 1.6 s x 20 fps
    gaps = np.diff(times[2:])
    assert abs(float(np.median(gaps)) - 1 / fps) < 0.3 / fps, np.median(gaps)
    assert sink.pictures_sent == 1 and sink.frames_sent == len(sent)


def test_newest_picture_wins_and_offering_never_blocks():
    sent, _ = fake_backend(accepts=("BGR",), send_seconds=0.2)  # a very slow device
    sink = VirtualCameraSink(32, 32, fps=30, settings=VirtualCameraSettings(backend="fake"))
    sink.start()
    started = time.perf_counter()
    for value in range(100):
        sink(output(np.full((32, 32, 3), value, np.uint8), seq=value + 1))
    offered_in = time.perf_counter() - started
    assert wait_for(lambda: any(int(frame[0]) == 99 for _, frame in sent))
    sink.stop()
    assert offered_in < 0.1, offered_in  # 100 offers while the device is busy: none waited for it
    assert sink.frames_offered == 100 and sink.pictures_sent < 10  # stale pictures were dropped, not queued


def test_a_device_that_fails_mid_run_is_reported_in_one_line():
    sent, _ = fake_backend(accepts=("BGR",))
    sink = VirtualCameraSink(32, 32, fps=30, settings=VirtualCameraSettings(backend="fake"))
    sink.start()
    sink.camera._backend.send = lambda frame: (_ for _ in ()).throw(OSError("No such device"))
    sink(output(np.zeros((32, 32, 3), np.uint8)))
    assert wait_for(lambda: sink.error is not None)
    sink.stop()
    assert sink.error == "virtual camera fake0: stopped (No such device)" and not sink.active


def test_no_device_says_what_to_load_in_one_line():
    fake_backend(fail="No v4l2 loopback device found at /dev/video[0-99]. Did you run 'modprobe v4l2loopback'?")
    with pytest.raises(VirtualCameraError) as caught:
        open_camera(64, 48, 30, backend="fake")
    message = str(caught.value)
    assert "\n" not in message and message == no_device_message()
    linux = no_device_message("linux")
    assert "modprobe v4l2loopback" in linux and "exclusive_caps=1" in linux  # what makes browsers see it
    assert "OBS" in no_device_message("win32") and "OBS" in no_device_message("darwin")


def test_a_named_device_that_is_missing_is_named():
    fake_backend(fail="Device /dev/video42 does not exist.")
    with pytest.raises(VirtualCameraError, match=r"^virtual camera /dev/video42: not a virtual camera device"):
        open_camera(64, 48, 30, backend="fake", device="/dev/video42")


def test_without_pyvirtualcam_the_message_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyvirtualcam(name, *args, **kwargs):
        if name == "pyvirtualcam":
            raise ImportError("No module named 'pyvirtualcam'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyvirtualcam)
    with pytest.raises(VirtualCameraError, match=r"pyvirtualcam is not installed; pip install 'fastvit-fx\[virtualcam\]'"):
        open_camera(64, 48, 30)


def test_loopback_devices_are_listed_from_sysfs(tmp_path):
    for name, label in (("video10", "fastvit-fx"), ("video2", "Dummy video device (0x0000)")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "name").write_text(label + "\n")
    (tmp_path / "v4l-subdev0").mkdir()
    assert list_virtual_cameras(sysfs=tmp_path) == [{"device": "/dev/video2", "name": "Dummy video device (0x0000)"},
                                                    {"device": "/dev/video10", "name": "fastvit-fx"}]
    assert list_virtual_cameras(sysfs=tmp_path / "missing") == []


def _loopback_device() -> str | None:
    found = list_virtual_cameras(probe=False)
    return found[0]["device"] if found else None


@pytest.mark.skipif(_loopback_device() is None,
                    reason="no v4l2loopback device on this machine (sudo modprobe v4l2loopback devices=1 "
                    "exclusive_caps=1); the fake-backend tests cover the sink")
def test_a_real_loopback_device_shows_what_was_sent():
    device = _loopback_device()
    sink = VirtualCameraSink(320, 240, fps=30, settings=VirtualCameraSettings(device=device))
    sink.start()
    image = np.zeros((240, 320, 3), np.uint8)
    image[:, :160] = (0, 0, 255)  # red left half
    stop = threading.Event()

    def feed():
        while not stop.is_set():
            sink(output(image))
            time.sleep(1 / 30)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        ok, got = False, None
        for _ in range(60):
            ok, got = cap.read()
            if ok:
                break
        cap.release()
    finally:
        stop.set()
        feeder.join()
        sink.stop()
    assert ok and got is not None
    got = cv2.resize(got, (320, 240))
    assert got[120, 40, 2] > 150 and got[120, 40, 0] < 100  # red where red was sent
    assert got[120, 280].max() < 80


def test_cameras_section_names_each_device_or_what_to_load(capsys):
    from fastvit_fx.live.virtual_camera import print_virtual_cameras

    print_virtual_cameras([{"device": "/dev/video10", "name": "fastvit-fx"}])
    out = capsys.readouterr().out
    assert "/dev/video10: fastvit-fx   fastvit-fx --virtual-camera --virtual-camera-device /dev/video10" in out
    print_virtual_cameras([])
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and out.startswith("no virtual camera for --virtual-camera; install")
