"""The Qt window, offscreen: frames from the demo, every hotkey in the help overlay, recording, snapshot,
settings, and the failure paths (missing camera, camera lost mid-run, unwritable folder, no model)."""
from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import av  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtTest import QTest  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from fastvit_fx.app.settings import AppSettings  # noqa: E402
from fastvit_fx.app.main import build_window  # noqa: E402
from fastvit_fx.app.window import PlainPreset  # noqa: E402
from fastvit_fx.io.capture import CameraSource, DemoSource  # noqa: E402
from fastvit_fx.model import WeightsError  # noqa: E402

from test_capture import FakeCapture, FakeWorld  # noqa: E402


@pytest.fixture(scope="module")
def qapp():
    return QApplication.instance() or QApplication([])


def pump(app, until=lambda: False, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(0.005)
    app.processEvents()
    return until()


class EllipseSegmenter:
    """A cheap stand-in for the network: an upright ellipse in the middle of the frame."""

    backend_name = "fake"
    last_ms = 1.0

    def __call__(self, frame, interval_s=None):
        h, w = frame.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        return ((((xx - w / 2) / (w / 6)) ** 2 + ((yy - h / 2) / (h / 2.5)) ** 2) < 1).astype(np.float32)


def demo():
    return DemoSource(320, 180, fps=30)


def make_window(tmp_path, source=None, **kw):
    fx = pytest.importorskip("fastvit_fx.fx")
    kw.setdefault("presets", fx.load_presets().presets)
    kw.setdefault("segmenter", EllipseSegmenter())
    kw.setdefault("record_dir", tmp_path / "clips")
    settings = kw.pop("settings", None) or AppSettings(tmp_path / "settings.ini")
    window = build_window(source or demo(), kw.pop("presets"), settings, demo_factory=demo, **kw)
    window.resize(640, 360)
    window.show()
    window.start()
    return window


def notices(window):
    return " | ".join(n.text for n in window.view.active_notices())


@pytest.fixture
def window(qapp, tmp_path):
    w = make_window(tmp_path)
    yield w
    if not w.quitting:
        w.close()


def test_window_shows_frames_from_the_demo(qapp, window):
    assert pump(qapp, lambda: window.view.frames_shown >= 5)
    image = window.grab().toImage()
    assert image.width() == 640 and image.height() == 360
    centre = image.pixelColor(320, 180)
    assert (centre.red(), centre.green(), centre.blue()) != (0, 0, 0)  # a picture, not a black window
    window._tick()
    assert window.view.hud.fps > 0 and window.view.hud.effect == window.effect.name
    assert window.view.hud.source.startswith("demo 320x180")


def _key(window, key):
    QTest.keyClick(window, Qt.Key(key) if isinstance(key, int) else key)


def test_every_hotkey_does_what_the_help_says(qapp, tmp_path):
    window = make_window(tmp_path)
    assert pump(qapp, lambda: window.view.frames_shown >= 2)
    K = Qt.Key
    checked: set[str] = set()
    help_rows = dict(window.view.hud.help_rows)

    # Left / Right: previous / next effect
    start = window.session.effect_index
    _key(window, K.Key_Right)
    assert window.session.effect_index == (start + 1) % len(window.session.presets)
    _key(window, K.Key_Left)
    assert window.session.effect_index == start
    checked.add("Left / Right")

    # 1 - 9 (and the presets' own keys): each effect's key selects it; the help lists it
    effect_keys = [b for b in window.bindings if b.group == "effect"]
    assert len(effect_keys) >= 9
    for binding in effect_keys:
        _key(window, binding.keys[0])
        name = binding.description.split(": ", 1)[1]
        assert window.effect.name == name == window.session.driver.effect_name
        assert (binding.label, name) in [(k, n) for k, n, _ in window.view.hud.effect_rows]
    checked.add("1 - 9")

    # R / Space: start / stop recording
    _key(window, K.Key_R)
    assert window.session.recording is not None and window.session.recording.active
    assert pump(qapp, lambda: window.session.recording.recorder.frames >= 5)
    _key(window, K.Key_Space)
    assert window.session.recording is None and window.session.last_clip.frames >= 5 and window.session.last_clip.path.exists()
    _key(window, K.Key_Space)
    assert window.session.recording is not None and window.session.recording.active
    _key(window, K.Key_R)
    assert window.session.recording is None
    checked.add("R / Space")

    # S: snapshot
    _key(window, K.Key_S)
    assert window.session.last_snapshot is not None and window.session.last_snapshot.suffix == ".png"
    assert window.session.last_snapshot.exists()
    checked.add("S")

    # M: mirror
    before = window.session.mirror
    _key(window, K.Key_M)
    assert window.session.mirror != before and window.settings.mirror == window.session.mirror
    checked.add("M")

    # F: fullscreen
    _key(window, K.Key_F)
    assert pump(qapp, window.isFullScreen, timeout=5)
    _key(window, K.Key_F)
    assert pump(qapp, lambda: not window.isFullScreen(), timeout=5)
    checked.add("F")

    # D: mask debug view
    _key(window, K.Key_D)
    assert window.session.debug and window.view.hud.debug
    _key(window, K.Key_D)
    assert not window.session.debug
    checked.add("D")

    # H: help overlay
    _key(window, K.Key_H)
    assert window.view.show_help
    _key(window, K.Key_H)
    assert not window.view.show_help
    checked.add("H")

    # Shift+R: recording with the raw camera beside the clip
    QTest.keyClick(window, K.Key_R, Qt.KeyboardModifier.ShiftModifier)
    assert window.session.recording is not None and window.session.raw_recording is not None
    assert pump(qapp, lambda: window.session.raw_recording.recorder.frames >= 3)
    QTest.keyClick(window, K.Key_R, Qt.KeyboardModifier.ShiftModifier)
    assert window.session.recording is None and window.session.last_raw_clip.path.name.endswith("-raw.mp4")
    assert window.session.last_raw_clip.path.exists()
    checked.add("Shift+R")

    # V: virtual camera (no device here: a notice says what to load, and the app runs on)
    _key(window, K.Key_V)
    assert "virtual camera" in notices(window)
    if window.session.virtual_camera_on:
        _key(window, K.Key_V)
        assert not window.session.virtual_camera_on
    frames = window.view.frames_shown
    assert pump(qapp, lambda: window.view.frames_shown > frames + 2)
    checked.add("V")

    # Q / Esc: quit
    _key(window, K.Key_Q)
    assert window.quitting and not window.isVisible() and not window.session.running
    other = make_window(tmp_path)
    _key(other, K.Key_Escape)
    assert other.quitting and not other.isVisible()
    checked.add("Q / Esc")

    assert checked == set(help_rows), "the help overlay and the tested keys differ"


def test_preset_hotkeys_come_from_the_presets(qapp, tmp_path):
    presets = [PlainPreset("plain", None), PlainPreset("b", "7"), PlainPreset("c", None), PlainPreset("d", "x")]
    window = make_window(tmp_path, presets=presets, make_effect=lambda p: None)
    try:
        keys = {b.description.split(": ", 1)[1]: b.label for b in window.bindings if b.group == "effect"}
        assert keys["b"] == "7" and keys["d"] == "X"  # their own
        assert keys["plain"] == "1" and keys["c"] == "2"  # the free digits, in order
        QTest.keyClick(window, Qt.Key.Key_X)
        assert window.effect.name == "d"
    finally:
        window.close()


def test_recording_from_the_window_matches_what_was_shown(qapp, tmp_path, window):
    shown = []
    window.session.add_sink(lambda out: shown.append(out.seq) if window.session.recording is not None else None)
    assert window.session.start_recording()
    assert pump(qapp, lambda: window.session.recording.recorder.frames >= 20)
    info = window.session.stop_recording()
    window._tick()
    assert info.error is None and info.frames >= 20
    with av.open(str(info.path)) as container:
        stream = container.streams.video[0]
        times = [float(f.pts * f.time_base) for f in container.decode(stream)]
        size = (stream.codec_context.width, stream.codec_context.height)
    assert len(times) == info.frames
    assert info.frames + info.dropped <= len(shown) + 1
    assert size == (320, 180)
    assert times[-1] + 1 / 30 == pytest.approx(info.duration, abs=0.002)
    assert "saved" in notices(window)


def test_unwritable_record_folder_shows_a_message_and_the_app_keeps_running(qapp, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    window = make_window(tmp_path, record_dir=blocker / "clips")
    try:
        assert pump(qapp, lambda: window.view.frames_shown >= 2)
        QTest.keyClick(window, Qt.Key.Key_R)
        assert window.session.recording is None
        text = notices(window)
        assert f"cannot record to {blocker / 'clips'}" in text
        window._tick()
        shown = window.view.frames_shown
        assert pump(qapp, lambda: window.view.frames_shown > shown + 3)  # still running
        assert window.session.running
    finally:
        window.close()


def test_recording_that_fails_mid_clip_stops_with_a_message(qapp, tmp_path, window, monkeypatch):
    from fastvit_fx.io import record

    def full(self, image, pts=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record.ClipWriter, "write", full)
    assert window.session.start_recording()
    # the window's own tick may already have dropped the stopped recording (a busy machine)
    assert pump(qapp, lambda: window.session.recording is None or not window.session.recording.active, timeout=10)
    window._tick()
    assert window.session.recording is None and not window.view.hud.recording
    text = notices(window)
    assert f"recording stopped: cannot write to {tmp_path / 'clips'}" in text and "No space left" in text
    shown = window.view.frames_shown
    assert pump(qapp, lambda: window.view.frames_shown > shown + 3)


def test_missing_camera_falls_back_to_the_demo_with_a_message(qapp, tmp_path):
    window = make_window(tmp_path, source=CameraSource(5, opener=lambda i: None))
    try:
        assert isinstance(window.session.source, DemoSource)
        assert "camera 5: not found or busy" in notices(window) and "showing the demo" in notices(window)
        assert pump(qapp, lambda: window.view.frames_shown >= 2)
    finally:
        window.close()


def test_camera_lost_mid_run_is_shown_and_recovers(qapp, tmp_path):
    world = FakeWorld((320, 180))
    camera = CameraSource(0, opener=lambda i: FakeCapture(world), retry_s=0.05, fail_after=3, first_frame_s=0.2)
    window = make_window(tmp_path, source=camera)
    try:
        assert pump(qapp, lambda: window.view.frames_shown >= 2)
        world.plugged = False

        def lost():
            window._tick()
            return "camera 0 disconnected" in notices(window)

        assert pump(qapp, lost)
        world.plugged = True

        def back():
            window._tick()
            return "camera 0 reconnected" in notices(window)

        assert pump(qapp, back)
        shown = window.view.frames_shown
        assert pump(qapp, lambda: window.view.frames_shown > shown + 2)
        assert "disconnected" not in notices(window)
    finally:
        window.close()


def test_no_weights_yet_says_so_and_keeps_running(qapp, tmp_path):
    def no_weights():
        raise WeightsError(Path("models/fastvit_t8_person.safetensors"), "no such file")

    window = make_window(tmp_path, segmenter=None, segmenter_factory=no_weights)
    try:
        def told():
            window._tick()
            return "fastvit_t8_person.safetensors" in notices(window)

        assert pump(qapp, told)
        assert "no person segmentation" in notices(window) and "until the model loads" in notices(window)
        assert pump(qapp, lambda: window.view.frames_shown >= 3)
    finally:
        window.close()


def test_settings_persist_between_launches(qapp, tmp_path):
    settings_file = tmp_path / "persist.ini"
    window = make_window(tmp_path, settings=AppSettings(settings_file))
    QTest.keyClick(window, Qt.Key.Key_3)
    chosen = window.effect.name
    mirror = window.session.mirror
    QTest.keyClick(window, Qt.Key.Key_M)
    QTest.keyClick(window, Qt.Key.Key_Q)
    again = AppSettings(settings_file)
    assert again.effect == chosen and again.mirror == (not mirror)
    second = make_window(tmp_path, settings=again)
    try:
        assert second.effect.name == chosen and second.session.mirror == (not mirror)
    finally:
        second.close()


def test_help_overlay_lists_every_key_and_effect(qapp, window):
    window.toggle_help()
    keys = [k for k, _ in window.view.hud.help_rows]
    for label in ("Left / Right", "1 - 9", "R / Space", "Shift+R", "S", "V", "M", "F", "D", "H", "Q / Esc"):
        assert label in keys
    names = [n for _, n, _ in window.view.hud.effect_rows]
    assert names == [p.name for p in window.session.presets]
    image = window.grab().toImage()
    assert not image.isNull()


def test_app_command_without_trained_weights_says_so_and_runs(qapp, tmp_path, monkeypatch, capsys):
    """`fastvit-fx --source demo` with no weights anywhere: one line on stderr, the window runs."""
    from fastvit_fx.cli import main

    monkeypatch.setenv("FASTVIT_FX_MODELS", str(tmp_path / "no-models-here"))
    code = main(["--source", "demo", "--quit-after", "1.5", "--settings", str(tmp_path / "s.ini"),
                 "--record-dir", str(tmp_path / "clips"), "--effect", "none", "--backend", "torch"])
    err = capsys.readouterr().err
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("fastvit-fx:")]
    told = [line for line in lines if "no trained weights yet" in line]
    assert told and "no-models-here" in told[0] and "as soon as that file exists" in told[0]
    # the window's own notice about it may follow once (its model loads on another thread)
    assert len(told) <= 2 and len(lines) == len(set(lines))
    saved = AppSettings(tmp_path / "s.ini")
    assert saved.record_dir == tmp_path / "clips" and saved.backend == "torch" and saved.effect == "none"


def test_app_command_errors_are_one_line(qapp, tmp_path, capsys):
    from fastvit_fx.cli import main

    args = ["--settings", str(tmp_path / "s.ini")]
    assert main(["--source", str(tmp_path / "nope.mp4"), *args]) == 2
    assert "nope.mp4: no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    assert main(["--source", str(bad), *args]) == 2
    assert "bad.mp4: not a readable video" in capsys.readouterr().err
    assert main(["--source", "demo", "--effect", "sparkles", *args]) == 2
    assert "sparkles" in capsys.readouterr().err
    assert main(["--source", "demo", "--weights", str(tmp_path / "w.safetensors"), *args]) == 2
    assert "w.safetensors: no such file" in capsys.readouterr().err


def test_cameras_command(monkeypatch, capsys):
    from fastvit_fx.io import capture
    from fastvit_fx.cli import main

    monkeypatch.setattr(capture, "list_cameras", lambda n: [])
    assert main(["cameras"]) == 1
    assert "no cameras found (probed indices 0-9)" in capsys.readouterr().out
    monkeypatch.setattr(capture, "list_cameras", lambda n: [
        {"index": 0, "width": 1280, "height": 720, "fps": 30.0, "backend": "V4L2"}])
    assert main(["cameras"]) == 0
    assert "0: 1280x720 @ 30 fps  (V4L2)" in capsys.readouterr().out


def test_app_command_missing_camera_falls_back_and_is_not_remembered(qapp, tmp_path, monkeypatch, capsys):
    from fastvit_fx.io import capture
    from fastvit_fx.cli import main

    monkeypatch.setenv("FASTVIT_FX_MODELS", str(tmp_path / "no-models-here"))
    monkeypatch.setattr(capture, "open_opencv_camera", lambda *a, **k: None)
    settings = tmp_path / "s.ini"
    code = main(["--camera", "4", "--quit-after", "1", "--settings", str(settings), "--effect", "none"])
    err = capsys.readouterr().err
    assert code == 0
    assert "fastvit-fx: camera 4: not found or busy" in err and "showing the demo instead" in err
    assert AppSettings(settings).camera == 0


# -- first run and bad input: one line on stderr, never an abort or a hidden problem ---------------

def test_missing_qt_libraries_are_one_line_and_exit_2_before_qt_is_imported(tmp_path):
    """Qt would SIGABRT; the app command says which packages are missing and exits 2, PyQt6 untouched."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import fastvit_fx.app.platform_check as pc\n"
        "pc.qt_platform_problem = lambda: 'the window cannot open: Qt needs libxcb-cursor.so.0; "
        "install them with: sudo apt-get install libxcb-cursor0'\n"
        "from fastvit_fx.cli import main\n"
        f"rc = main(['--source', 'demo', '--settings', {str(tmp_path / 's.ini')!r}])\n"
        "print('qt imported' if 'PyQt6' in sys.modules else 'qt not imported')\n"
        "sys.exit(rc)\n")
    env = dict(os.environ, DISPLAY=":0", QT_QPA_PLATFORM="xcb", PYTHONPATH=str(Path(__file__).parents[1]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == "qt not imported"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["fastvit-fx: error: the window cannot open: Qt needs libxcb-cursor.so.0; "
                     "install them with: sudo apt-get install libxcb-cursor0"]


def test_unwritable_record_dir_argument_is_one_line_and_never_saved(qapp, tmp_path, capsys):
    from fastvit_fx.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    settings_file = tmp_path / "s.ini"
    code = main(["--source", "demo", "--settings", str(settings_file), "--record-dir", str(blocker / "clips"),
                 "--quit-after", "0.5"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"{blocker / 'clips'}: cannot write here" in err
    assert AppSettings(settings_file).record_dir != blocker / "clips"


def test_settings_refuse_to_remember_an_unwritable_record_dir(qapp, tmp_path):
    from fastvit_fx.errors import UserError

    settings = AppSettings(tmp_path / "s.ini")
    settings.record_dir = tmp_path / "clips"
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(UserError, match="a-file"):
        settings.record_dir = tmp_path / "a-file"
    assert settings.record_dir == tmp_path / "clips"


def _effects_with_broken_snow(tmp_path) -> Path:
    import shutil

    from fastvit_fx.resources import effects_dir

    folder = tmp_path / "effects"
    shutil.copytree(effects_dir(), folder)
    text = (folder / "snow.toml").read_text(encoding="utf-8")
    (folder / "snow.toml").write_text(text + '\n[[pass]]\ntype = "no-such-pass"\n', encoding="utf-8")
    return folder


def test_effect_naming_a_broken_preset_reports_its_file_and_key(qapp, tmp_path, monkeypatch, capsys):
    from fastvit_fx.cli import main
    from fastvit_fx.fx import load_presets

    folder = _effects_with_broken_snow(tmp_path)
    monkeypatch.setenv("FASTVIT_FX_EFFECTS", str(folder))
    problem = load_presets(folder).broken["snow"]
    assert "snow.toml" in problem
    assert main(["--source", "demo", "--effect", "snow", "--settings", str(tmp_path / "s.ini")]) == 2
    err = capsys.readouterr().err
    assert err == f"fastvit-fx: error: {problem}\n" and "no such effect" not in err


def test_preset_problems_are_printed_on_stderr_at_start(qapp, tmp_path, monkeypatch, capsys):
    from fastvit_fx.cli import main
    from fastvit_fx.fx import load_presets

    folder = _effects_with_broken_snow(tmp_path)
    monkeypatch.setenv("FASTVIT_FX_EFFECTS", str(folder))
    monkeypatch.setenv("FASTVIT_FX_MODELS", str(tmp_path / "no-models-here"))
    problem = load_presets(folder).broken["snow"]
    assert main(["--source", "demo", "--effect", "none", "--quit-after", "1", "--settings", str(tmp_path / "s.ini"),
                 "--record-dir", str(tmp_path / "clips"), "--backend", "torch"]) == 0
    assert capsys.readouterr().err.count(f"fastvit-fx: {problem}\n") == 1


def test_window_messages_are_on_stderr_once_not_every_tick(qapp, tmp_path, capsys):
    def no_weights():
        raise WeightsError(Path("models/fastvit_t8_person.safetensors"), "no such file")

    window = make_window(tmp_path, source=CameraSource(5, opener=lambda i: None), segmenter=None,
                         segmenter_factory=no_weights)
    try:
        def told():
            window._tick()
            return "no person segmentation" in notices(window)

        assert pump(qapp, told)
        for _ in range(10):
            window._tick()
        err = capsys.readouterr().err
        fallback = [line for line in err.splitlines() if "camera 5: not found or busy" in line]
        model = [line for line in err.splitlines() if "no person segmentation" in line]
        assert len(fallback) == 1 and fallback[0].startswith("fastvit-fx: ") and "showing the demo" in fallback[0]
        assert len(model) == 1 and "fastvit_t8_person.safetensors" in model[0]
    finally:
        window.close()


def test_camera_fallback_banner_goes_away(qapp, tmp_path, monkeypatch):
    from fastvit_fx.io import capture

    monkeypatch.setitem(capture.SHOW_SECONDS, capture.StatusKind.FALLBACK, 0.5)
    window = make_window(tmp_path, source=CameraSource(5, opener=lambda i: None))
    try:
        assert "showing the demo" in notices(window)
        status = window.session.source.status_info
        assert status.kind is capture.StatusKind.FALLBACK and status.show_s == 0.5

        def gone():
            window._tick()
            return "showing the demo" not in notices(window)

        assert pump(qapp, gone, timeout=5)
        assert window.session.running
    finally:
        window.close()


def test_recording_below_the_camera_rate_warns_in_the_hud_and_on_stderr(qapp, tmp_path, window, monkeypatch,
                                                                        capsys):
    from fastvit_fx.io import record

    def slow(self):
        return record.RecordHealth(frames=40, dropped=7, missed=3, fps=14.8, target_fps=30.0, encode_ms=60.0,
                                   encoder="libx264 superfast crf 23", below_rate=True)

    monkeypatch.setattr(record.Recorder, "health", slow)
    assert window.session.start_recording()
    for _ in range(5):
        window._tick()
    lines = window.view.hud.recording_lines()
    assert lines[0].startswith("REC ") and len(lines) == 2
    assert "recording at 15 fps, below the camera's 30" in lines[1] and "7 dropped by the encoder" in lines[1]
    err = capsys.readouterr().err
    assert err.count("below the camera's 30") == 1
    window.session.stop_recording()
    window._tick()
    assert window.view.hud.recording_lines() == []


def test_recording_quality_comes_from_the_settings(qapp, tmp_path):
    settings = AppSettings(tmp_path / "s.ini")
    assert settings.crf == 23
    settings.crf = 28
    window = make_window(tmp_path, settings=settings)
    try:
        assert window.session.start_recording()
        assert window.session.recording.recorder.crf == 28
    finally:
        window.close()
