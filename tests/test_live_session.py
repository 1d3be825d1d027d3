"""The Qt-free live session: effect cycling, toggles, recording, snapshots and the typed events it
reports (source fallback, lost and recovered; model missing then ready; recording failures)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fastvit_fx.io.capture import ArraySource, CameraSource
from fastvit_fx.live import ModelState
from fastvit_fx.live.session import (EffectState, Event, LiveSession, RecordingState, SnapshotState, SourceState,
                                     Topic)
from fastvit_fx.model import WeightsError

from test_capture import FakeCapture, FakeWorld


@dataclass
class Plain:
    name: str
    description: str = ""


PRESETS = [Plain("none"), Plain("paint", "paints the person green"), Plain("mask")]


def paint_effect(preset):
    if preset.name != "paint":
        return None

    def paint(frame, mask, t):
        out = frame.copy()
        if mask is not None:
            out[mask > 0.5] = (0, 255, 0)
        return out
    return paint


def left_half(frame, interval_s=None):
    mask = np.zeros(frame.shape[:2], np.float32)
    mask[:, : frame.shape[1] // 2] = 1
    return mask


def source():
    return ArraySource([np.full((48, 64, 3), 90, np.uint8)], fps=60)


def session(tmp_path, **kw) -> LiveSession:
    kw.setdefault("segmenter", left_half)
    kw.setdefault("make_effect", paint_effect)
    kw.setdefault("record_dir", tmp_path / "clips")
    return LiveSession(kw.pop("source", None) or source(), PRESETS, demo_factory=source, **kw)


def wait_for(s: LiveSession, predicate, timeout: float = 20.0) -> list[Event]:
    seen: list[Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += s.poll()
        if predicate(seen):
            return seen
        time.sleep(0.02)
    return seen


def test_effects_toggles_and_their_events(tmp_path):
    s = session(tmp_path)
    assert s.effect.name == "paint"  # the first real effect, when none is asked for
    s.start()
    try:
        assert s.driver.wait_masks(1) and s.driver.wait_frames(s.driver.frames_out + 3)
        out = s.last_output
        assert (out.image[:, :5] == (0, 255, 0)).all() and (out.image[:, -5:] == 90).all()
        s.cycle_effect(1)
        assert s.effect.name == "mask" and s.driver.effect_name == "mask"
        s.cycle_effect(1)
        assert s.effect.name == "none"
        s.set_effect("paint")
        events = s.poll()
        assert [e.state for e in events if e.topic is Topic.EFFECT] == [EffectState.CHOSEN] * 3
        assert events[-1].message == "paint: paints the person green"
        assert s.toggle_mirror() and s.mirror
        n = s.driver.frames_out
        assert s.driver.wait_frames(n + 3)
        assert (s.last_output.image[:, -5:] == (0, 255, 0)).all()  # the person moved to the right
        assert s.toggle_debug() and not s.toggle_debug()
    finally:
        s.stop()
    assert not s.running


def test_recording_and_snapshot_events(tmp_path):
    s = session(tmp_path)
    s.start()
    try:
        assert s.driver.wait_frames(3)
        path = s.start_recording()
        assert path is not None and s.is_recording
        assert s.driver.wait_frames(s.driver.frames_out + 10)
        info = s.stop_recording()
        assert info.frames >= 5 and info.path.exists() and not s.is_recording
        shot = s.snapshot()
        assert shot is not None and shot.exists() and shot.suffix == ".png"
        states = [(e.topic, e.state) for e in s.poll()]
        assert states == [(Topic.RECORDING, RecordingState.RECORDING), (Topic.RECORDING, RecordingState.SAVED),
                          (Topic.SNAPSHOT, SnapshotState.SAVED)]
    finally:
        s.stop()


def test_recording_into_a_file_is_refused_with_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    s = session(tmp_path, record_dir=blocker / "clips")
    s.start()
    try:
        assert s.start_recording() is None and not s.is_recording
        assert s.driver.wait_frames(2) and s.snapshot() is None
        events = s.poll()
        failed = [e for e in events if e.state is RecordingState.FAILED]
        assert failed and f"cannot record to {blocker / 'clips'}" in failed[0].message
        snap = [e for e in events if e.topic is Topic.SNAPSHOT]
        assert snap[0].state is SnapshotState.FAILED and "cannot save a snapshot in" in snap[0].message
        assert s.running
    finally:
        s.stop()


def test_source_that_will_not_open_falls_back_to_the_demo(tmp_path, capsys):
    s = session(tmp_path, source=CameraSource(5, opener=lambda i: None))
    s.start()
    try:
        assert s.fell_back and s.source.name == "synthetic"
        events = s.poll()
        fallback = [e for e in events if e.topic is Topic.SOURCE]
        assert [e.state for e in fallback] == [SourceState.FELL_BACK]
        assert "camera 5: not found or busy" in fallback[0].message
        assert fallback[0].message.endswith("showing synthetic instead")  # the fallback source names itself
        assert fallback[0].status is s.source.status_info and fallback[0].status.show_s is not None
    finally:
        s.stop()


def test_camera_lost_then_recovered(tmp_path):
    world = FakeWorld((64, 48))
    camera = CameraSource(0, opener=lambda i: FakeCapture(world), retry_s=0.05, fail_after=3, first_frame_s=0.2)
    s = session(tmp_path, source=camera)
    s.start()
    try:
        assert s.driver.wait_frames(2)
        s.poll()
        world.plugged = False
        lost = wait_for(s, lambda ev: any(e.state is SourceState.LOST for e in ev))
        assert any(e.state is SourceState.LOST and "camera 0 disconnected" in e.message for e in lost)
        world.plugged = True
        back = wait_for(s, lambda ev: any(e.state is SourceState.RECOVERED for e in ev))
        assert [e for e in back if e.state is SourceState.RECOVERED][0].message == "camera 0 reconnected"
    finally:
        s.stop()


def test_model_missing_then_ready(tmp_path):
    ready = {"now": False}

    def factory():
        if not ready["now"]:
            raise WeightsError(Path("models/fastvit_t8_person.safetensors"), "no such file")
        return left_half

    s = session(tmp_path, segmenter=None, segmenter_factory=factory)
    s.driver.retry_s = 0.05
    s.start()
    try:
        missing = wait_for(s, lambda ev: any(e.state is ModelState.UNAVAILABLE for e in ev))
        event = [e for e in missing if e.state is ModelState.UNAVAILABLE][0]
        assert event.topic is Topic.MODEL and "fastvit_t8_person.safetensors" in event.message
        assert "no person segmentation" in event.message
        assert s.driver.wait_frames(s.driver.frames_out + 3)  # the picture goes on without a mask
        ready["now"] = True
        back = wait_for(s, lambda ev: any(e.state is ModelState.READY for e in ev))
        assert "effects are on" in [e for e in back if e.state is ModelState.READY][0].message
    finally:
        s.stop()
