"""Clip recording: frame count and duration, real timestamps, encoder fallback, crash safety, errors."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import av
import numpy as np
import pytest

from fastvit_fx.io import record
from fastvit_fx.io.record import ClipWriter, Recorder, RecordError, timestamped_path

W, H = 96, 64


def frames(n, w=W, h=H):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return [np.roll(base, i * 3, axis=1) for i in range(n)]


def decode(path):
    """(frame count, pts in seconds, fps the container states, (w, h))."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.pts * f.time_base) for f in container.decode(stream)]
        return len(times), times, stream.average_rate, (stream.codec_context.width, stream.codec_context.height)


def test_recording_keeps_every_frame_at_its_real_time(tmp_path):
    rec = Recorder(tmp_path / "clips", fps=30, queue_frames=64)
    path = rec.start()
    assert path.parent == tmp_path / "clips" and path.suffix == ".mp4"
    t0 = 1000.0
    # irregular, like a real camera: mostly 1/30 s, with a hiccup of 0.2 s in the middle
    times = [t0 + i / 30 + (0.2 if i >= 20 else 0.0) for i in range(45)]
    for image, t in zip(frames(45), times):
        assert rec.write(image, t)
    info = rec.stop()
    assert info.error is None and info.dropped == 0
    assert info.frames == 45
    count, pts, _, size = decode(path)
    assert count == 45 and size == (W, H)
    expected = [t - t0 for t in times]
    assert max(abs(a - b) for a, b in zip(pts, expected)) < 0.002  # playback speed matches reality
    assert info.duration == pytest.approx(expected[-1] + 1 / 30, abs=1e-6)


def test_write_never_blocks_and_counts_drops(tmp_path, monkeypatch):
    real_write = ClipWriter.write

    def slow_write(self, image, pts=None):
        time.sleep(0.05)
        real_write(self, image, pts)

    monkeypatch.setattr(ClipWriter, "write", slow_write)
    rec = Recorder(tmp_path, fps=30, queue_frames=2)
    rec.start()
    started = time.perf_counter()
    accepted = sum(rec.write(image, i / 30) for i, image in enumerate(frames(30)))
    spent = time.perf_counter() - started
    info = rec.stop()
    assert spent < 30 * 0.05 / 2  # far less than encoding them would take: nothing waited on the encoder
    assert info.dropped == 30 - accepted > 0
    assert decode(info.path)[0] == info.frames == accepted


def test_encoder_fallback_when_libx264_is_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "available_encoders", lambda: ["mpeg4"])
    rec = Recorder(tmp_path, fps=25)
    rec.start()
    for i, image in enumerate(frames(10)):
        rec.write(image, i / 25)
    info = rec.stop()
    assert info.codec == "mpeg4" and info.error is None
    assert decode(info.path)[0] == 10


def test_default_encoder_is_h264(tmp_path):
    with ClipWriter(tmp_path / "a.mp4", W, H, fps=30) as writer:
        writer.write(frames(1)[0])
    assert writer.codec_name in ("libx264", "h264")
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_unwritable_folder_is_a_one_line_error_naming_it(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    folder = blocker / "clips"  # cannot exist (works as root too, unlike chmod)
    rec = Recorder(folder)
    with pytest.raises(RecordError) as err:
        rec.start()
    assert str(folder) in str(err.value) and "\n" not in str(err.value)
    assert not rec.active


def test_full_disk_stops_the_recording_with_a_message(tmp_path, monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    messages = []
    rec = Recorder(tmp_path, fps=30, on_error=messages.append)
    monkeypatch.setattr(rec, "new_path", lambda: Path("/dev/full"))  # every write: ENOSPC
    rec.start()
    for i, image in enumerate(frames(120, 320, 240)):
        rec.write(image, i / 30)
        if not rec.active:
            break
        time.sleep(0.002)
    assert _wait(lambda: not rec.active)
    info = rec.stop()
    assert info.error and str(tmp_path) in info.error and "No space left" in info.error
    assert messages == [info.error]
    assert not rec.write(frames(1, 320, 240)[0], 99.0)  # stopped: further frames are refused, not queued


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    return predicate()


def test_killed_mid_clip_leaves_a_playable_file(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from fastvit_fx.io.record import Recorder
        rec = Recorder({str(tmp_path)!r}, fps=30, queue_frames=400)
        path = rec.start()
        print(path, flush=True)
        rng = np.random.default_rng(1)
        base = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        for i in range(100):  # 3.3 s of video: three finished one-second fragments, one open
            rec.write(np.roll(base, i * 4, axis=1), i / 30)
        while rec.frames < 100:
            time.sleep(0.01)
        print("written", flush=True)
        time.sleep(60)  # killed here, mid-clip: the recorder never gets to finish the file
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        path = Path(proc.stdout.readline().strip())
        assert proc.stdout.readline().strip() == "written"
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    count, pts, _, size = decode(path)  # opens and decodes without error
    assert size == (160, 120)
    assert count >= 60  # at least the finished fragments
    assert pts == sorted(pts) and pts[-1] == pytest.approx((count - 1) / 30, abs=0.002)


def test_clip_names_are_date_and_time_and_never_collide(tmp_path):
    import datetime as dt

    now = dt.datetime(2025, 3, 4, 5, 6, 7)
    first = timestamped_path(tmp_path, now=now)
    assert first.name == "fastvit-fx_2025-03-04_05-06-07.mp4"
    first.write_bytes(b"")
    second = timestamped_path(tmp_path, now=now)
    assert second.name == "fastvit-fx_2025-03-04_05-06-07_2.mp4"


def test_odd_sizes_are_cropped_to_even(tmp_path):
    with ClipWriter(tmp_path / "odd.mp4", 65, 49, fps=10) as writer:
        for image in frames(3, 65, 49):
            writer.write(image)
    assert decode(tmp_path / "odd.mp4")[3] == (64, 48)


def test_stop_without_frames_leaves_no_file(tmp_path):
    rec = Recorder(tmp_path)
    path = rec.start()
    info = rec.stop()
    assert info.frames == 0 and not path.exists()


# -- keeping the camera's rate on a busy machine; constant quality ----------------------------------
def _x264_options(path) -> str:
    """The option string libx264 writes into the stream (its SEI): what the encoder really ran with."""
    data = Path(path).read_bytes()
    start = data.find(b"options: ")
    assert start >= 0, "no x264 settings in the stream"
    return data[start:data.find(b"\x00", start)].decode("ascii", "replace")


def test_encoder_speed_takes_the_best_preset_that_fits_the_measured_time(monkeypatch):
    per_frame = {"veryfast": 0.040, "superfast": 0.025, "ultrafast": 0.008}  # seconds, as if measured
    asked = []

    def fake_time_encode(image, preset, crf=23, frames=6, fps=30.0):
        asked.append(preset)
        return per_frame[preset]

    monkeypatch.setattr(record, "time_encode", fake_time_encode)
    speed = record.EncoderSpeed()
    image = frames(1)[0]
    assert speed.choose(image, fps=30) == "ultrafast"  # budget 0.6/30 = 20 ms: only ultrafast fits
    assert asked == ["veryfast", "superfast", "ultrafast"]
    assert speed.choose(image, fps=20) == "superfast"  # 30 ms budget
    per_frame["veryfast"] = 0.010
    asked.clear()
    assert speed.choose(image, fps=30) == "veryfast" and asked == ["veryfast"]  # an idle machine: best one
    speed.note_clip("veryfast", 0.050, fps=30)  # ... but that clip's encoder fell behind
    per_frame["superfast"] = 0.012
    asked.clear()
    assert speed.choose(image, fps=30) == "superfast" and asked == ["superfast"]
    speed.note_clip("superfast", 0.004, fps=30)  # the load went away: room to spare
    asked.clear()
    assert speed.choose(image, fps=30) == "veryfast" and asked == ["veryfast"]


def test_time_encode_measures_the_real_encoder():
    spent = record.time_encode(frames(1, 320, 240)[0], "ultrafast")
    assert 0 < spent < 1.0


def test_recorder_encodes_with_the_preset_it_chose(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "time_encode", lambda image, preset, *a, **k: {"ultrafast": 0.001}.get(preset, 1.0))
    rec = Recorder(tmp_path, fps=30, speed=record.EncoderSpeed())
    rec.start()
    for i, image in enumerate(frames(20)):
        rec.write(image, i / 30)
    info = rec.stop()
    assert info.encoder == f"libx264 ultrafast crf {record.DEFAULT_CRF}"
    options = _x264_options(info.path)
    assert "cabac=0" in options and f"crf={record.DEFAULT_CRF}.0" in options  # ultrafast has no CABAC


def test_health_counts_frames_that_never_came_and_warns_below_the_camera_rate(tmp_path):
    rec = Recorder(tmp_path, fps=30, queue_frames=200, preset="ultrafast")
    rec.start()
    images = frames(100)
    for i in range(50):  # 2.5 s at the camera's 30 fps
        rec.write(images[i], i / 30)
    assert _wait(lambda: rec.frames == 50)
    health = rec.health()
    assert health.fps == pytest.approx(30, abs=0.5) and not health.below_rate and health.warning is None
    t = 49 / 30
    for i in range(50, 100):  # then the app falls to 15 fps: every other frame never reaches the recorder
        t += 2 / 30
        rec.write(images[i], t)
    assert _wait(lambda: rec.frames == 100)
    health = rec.health()
    assert health.below_rate and health.fps == pytest.approx(15, abs=0.5)
    assert health.missed == 50 and health.dropped == 0 and health.frames == 100
    assert health.warning == ("recording at 15 fps, below the camera's 30: the machine is busy "
                              "(50 never reached the recorder)")
    info = rec.stop()
    assert info.below_rate and info.missed == 50 and info.slowest_fps == pytest.approx(15, abs=0.5)


def test_default_quality_keeps_720p_webcam_clips_well_under_the_old_bitrate(tmp_path):
    from fastvit_fx.io.capture import demo_frames

    images, _ = demo_frames(45, 1280, 720)  # the demo scene: a person, a room, sensor noise
    path = tmp_path / "720p.mp4"
    with ClipWriter(path, 1280, 720, fps=30) as writer:
        for image in images:
            writer.write(image)
    mbit_s = path.stat().st_size * 8 / (len(images) / 30) / 1e6
    assert mbit_s < 3.0, f"{mbit_s:.2f} Mbit/s"  # the old default (crf 20, superfast) gave about 8.5 here
    assert f"crf={record.DEFAULT_CRF}.0" in _x264_options(path)


def test_crf_is_settable_and_checked(tmp_path):
    sizes = {}
    for crf in (18, 35):
        with ClipWriter(tmp_path / f"crf{crf}.mp4", W, H, fps=30, crf=crf) as writer:
            for image in frames(15):
                writer.write(image)
        sizes[crf] = (tmp_path / f"crf{crf}.mp4").stat().st_size
    assert sizes[35] < sizes[18] / 2
    with pytest.raises(RecordError, match="crf: expected a whole number 0-51.*got 60"):
        Recorder(tmp_path, crf=60)
    with pytest.raises(RecordError, match="crf"):
        ClipWriter(tmp_path / "x.mp4", W, H, crf="high")
