"""The session's extra outputs: the virtual camera (on, off, no device) and the raw clip beside the effected one."""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx.io.capture import VideoReader
from fastvit_fx.live.session import RecordingState, Topic
from fastvit_fx.live.virtual_camera import VirtualCameraSettings, VirtualCameraState

from test_live_session import session, wait_for


def test_raw_clip_beside_the_effected_one(tmp_path):
    s = session(tmp_path, mirror=True)
    s.start()
    try:
        assert s.driver.wait_masks(1)
        assert s.start_recording(raw=True) is not None
        assert s.raw_recording is not None
        assert s.driver.wait_frames(s.driver.frames_out + 20, timeout=20)
        info = s.stop_recording()
    finally:
        s.stop()
    raw = s.last_raw_clip
    assert info.frames > 0 and raw is not None and raw.frames > 0 and raw.error is None
    assert raw.path == info.path.with_name(info.path.stem + "-raw.mp4")
    with VideoReader(raw.path) as reader:
        first_raw = next(iter(reader))
    with VideoReader(info.path) as reader:
        frames = list(reader)
    effected = frames[-1]
    assert abs(float(first_raw.mean()) - 90) < 3  # the camera as captured: flat grey, no paint
    assert effected[:, -5:, 1].mean() > 200  # the effected clip: the green person (left half, mirrored)
    assert abs(float(effected[:, :5].mean()) - 90) < 3


def test_record_raw_setting_and_plain_recording(tmp_path):
    s = session(tmp_path, record_raw=True)
    s.start()
    try:
        assert s.driver.wait_masks(1)
        s.toggle_recording()
        assert s.raw_recording is not None
        assert s.driver.wait_frames(s.driver.frames_out + 5, timeout=20)
        s.toggle_recording()
        events = wait_for(s, lambda seen: any(e.state is RecordingState.SAVED for e in seen))
        saved = [e for e in events if e.state is RecordingState.SAVED][0]
        assert "-raw.mp4" in saved.message
        s.record_raw = False
        s.toggle_recording()
        assert s.raw_recording is None  # R alone: no raw clip
        s.toggle_recording()
    finally:
        s.stop()


@pytest.fixture
def fake_backend():
    """test_virtual_camera's fake pyvirtualcam backend, forgotten after the test (the registry is global)."""
    pyvirtualcam = pytest.importorskip("pyvirtualcam", reason="pyvirtualcam (the virtualcam extra) is not installed")
    from test_virtual_camera import fake_backend

    yield fake_backend
    pyvirtualcam.camera.BACKENDS.pop("fake", None)


def test_virtual_camera_on_and_off(tmp_path, fake_backend):
    sent, opened = fake_backend(accepts=("BGR",))
    s = session(tmp_path, virtual_camera_settings=VirtualCameraSettings(backend="fake"))
    s.start()
    try:
        assert s.driver.wait_frames(3)
        assert s.toggle_virtual_camera() is True
        events = wait_for(s, lambda seen: len(sent) >= 5)
        assert any(e.topic is Topic.VIRTUAL_CAMERA and e.state is VirtualCameraState.ON for e in events)
        assert opened[-1]["width"] == 64 and opened[-1]["height"] == 48 and opened[-1]["fps"] == 60
        picture = sent[-1][1].reshape(48, 64, 3)
        assert (picture[:, :5] == (0, 255, 0)).all() and (picture[:, -5:] == 90).all()  # the effect, no HUD
        assert s.toggle_virtual_camera() is False
        assert any(e.state is VirtualCameraState.OFF for e in s.poll())
    finally:
        s.stop()


def test_no_virtual_camera_device_is_one_event_and_the_session_runs_on(tmp_path, capsys, fake_backend):
    fake_backend(fail="No v4l2 loopback device found at /dev/video[0-99].")
    s = session(tmp_path, virtual_camera_settings=VirtualCameraSettings(backend="fake"))
    s.start()
    try:
        assert s.toggle_virtual_camera() is False
        failed = [e for e in s.poll() if e.topic is Topic.VIRTUAL_CAMERA]
        assert [e.state for e in failed] == [VirtualCameraState.FAILED]
        assert "\n" not in failed[0].message and "virtual camera" in failed[0].message
        assert capsys.readouterr().err == ""  # the session only emits: the window shows it and echoes it on stderr
        before = s.driver.frames_out
        assert s.driver.wait_frames(before + 3)  # still running
        assert np.asarray(s.last_output.image).shape == (48, 64, 3)
    finally:
        s.stop()


class LiveFakeMicrophone:
    """Hands out the silence 'heard' since the last read, stamped on the real capture clock."""

    rate, channels, name = 16000, 1, "fake microphone"

    def start(self):
        import time

        self.next_t = time.monotonic()

    def stop(self):
        pass

    def read(self):
        import time

        now, blocks = time.monotonic(), []
        while self.next_t + 1024 / self.rate <= now:
            blocks.append((self.next_t, np.zeros((1, 1024), np.float32)))
            self.next_t += 1024 / self.rate
        return blocks


def test_clips_carry_the_microphone(tmp_path):
    import av

    s = session(tmp_path, open_audio=lambda: (LiveFakeMicrophone(), None))
    s.start()
    try:
        assert s.driver.wait_masks(1)
        s.start_recording(raw=True)
        assert s.driver.wait_frames(s.driver.frames_out + 40, timeout=20)
        info = s.stop_recording()
    finally:
        s.stop()
    for clip in (info, s.last_raw_clip):  # the raw clip too, so a re-render keeps the sound
        with av.open(str(clip.path)) as container:
            audio = container.streams.audio[0]
            assert audio.codec_context.name == "aac" and audio.codec_context.sample_rate == 16000
            heard = sum(frame.samples for frame in container.decode(audio=0)) / 16000
        assert abs(heard - clip.duration) < 0.25, clip  # sound over the whole clip


def test_no_microphone_gives_silent_clips_and_one_line(tmp_path, capsys):
    import av

    s = session(tmp_path, open_audio=lambda: (None, "no sound in clips: sounddevice is not installed"))
    s.start()
    try:
        assert s.driver.wait_masks(1)
        s.start_recording()
        events = s.poll()
        assert s.driver.wait_frames(s.driver.frames_out + 5, timeout=20)
        info = s.stop_recording()
        s.start_recording()
        s.stop_recording()
    finally:
        s.stop()
    started = [e for e in events if e.state is RecordingState.RECORDING][0]
    assert started.message.endswith("(no sound in clips: sounddevice is not installed)")
    assert capsys.readouterr().err.count("no sound in clips") == 1  # said once, not per clip
    with av.open(str(info.path)) as container:
        assert not container.streams.audio


def test_app_command_with_virtual_camera_and_no_device_runs_on(tmp_path, monkeypatch, capsys):
    """`fastvit-fx --virtual-camera` where no device exists: one line saying what to load, the app runs."""
    pytest.importorskip("pyvirtualcam", reason="pyvirtualcam (the virtualcam extra) is not installed")
    from fastvit_fx.live.virtual_camera import list_virtual_cameras

    if list_virtual_cameras(probe=False):
        pytest.skip("this machine has a virtual camera device; the no-device path can't be shown here")
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from fastvit_fx.cli import main

    monkeypatch.setenv("FASTVIT_FX_MODELS", str(tmp_path / "no-models-here"))
    code = main(["--source", "demo", "--virtual-camera", "--no-sound", "--quit-after", "1.5",
                 "--settings", str(tmp_path / "s.ini"), "--record-dir", str(tmp_path / "clips"),
                 "--effect", "none", "--backend", "torch"])
    err = capsys.readouterr().err
    assert code == 0
    lines = [line for line in err.splitlines() if "virtual camera" in line]
    assert len(lines) == 1 and lines[0].startswith("fastvit-fx: virtual camera:"), err
