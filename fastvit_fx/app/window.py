"""The main window: maps keys to session calls and paints. It builds nothing: `app/main.py` wires the
session (driver, effects, recorder, sinks) and hands it over.

Frames arrive on the session's render thread; the window keeps only the newest and shows it on the
GUI thread (a queued signal, coalesced: a busy GUI skips frames, it never queues them). A timer reads
the session's numbers and events a few times a second for the HUD and the notices.

Every notice the window shows is also one line on stderr (`_say`), once per change, so a user who
launched from a terminal (or a log) sees what the window said.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QGuiApplication, QKeyEvent
from PyQt6.QtWidgets import QMainWindow

from ..live import ModelState, Output
from ..live.session import (EffectState, Event, LiveSession, RecordingState, SnapshotState, SourceState,
                            Topic)
from ..live.virtual_camera import VirtualCameraState
from .hotkeys import Binding, assign_preset_keys, key_label
from .settings import AppSettings
from .view import VideoView


@dataclass
class PlainPreset:
    """Stands in for an fx Preset when the effects engine is unavailable."""

    name: str
    hotkey: str | None = None
    description: str = ""


SHIFT = int(Qt.KeyboardModifier.ShiftModifier.value)
SHIFT_R = int(Qt.Key.Key_R.value) | SHIFT  # a key with Shift held, as the key table stores it


class _Bridge(QObject):
    frame_ready = pyqtSignal()


# How each state is shown: (notice level, seconds on screen; None: until the state changes)
NOTICE_STYLE: dict = {
    SourceState.FELL_BACK: ("warning", None),
    SourceState.LOST: ("warning", None),
    SourceState.RECOVERED: ("ok", 5),
    SourceState.ENDED: ("info", 8),
    SourceState.RUNNING: ("info", 8),
    ModelState.LOADING: ("info", None),
    ModelState.READY: ("ok", 5),
    ModelState.UNAVAILABLE: ("warning", None),
    ModelState.FAILED: ("warning", None),
    ModelState.NONE: ("info", 5),
    EffectState.CHOSEN: ("info", 3),
    EffectState.FAILED: ("error", None),
    EffectState.WORKING: ("info", 3),
    RecordingState.RECORDING: ("info", 4),
    RecordingState.SAVED: ("ok", 8),
    RecordingState.EMPTY: ("warning", 6),
    RecordingState.FAILED: ("error", 15),
    RecordingState.BELOW_RATE: ("warning", 6),
    SnapshotState.SAVED: ("ok", 5),
    SnapshotState.NO_FRAME: ("warning", 4),
    SnapshotState.FAILED: ("error", 10),
    VirtualCameraState.ON: ("ok", 6),
    VirtualCameraState.OFF: ("info", 3),
    VirtualCameraState.FAILED: ("error", 20),
}
# one notice line per topic; an effect's failure has its own, so choosing another effect keeps it apart
NOTICE_KEYS = {Topic.SOURCE: "source", Topic.MODEL: "model", Topic.EFFECT: "effect", Topic.RECORDING: "record",
               Topic.SNAPSHOT: "snapshot", EffectState.FAILED: "effect-error", EffectState.WORKING: "effect-error",
               SourceState.FELL_BACK: "fallback", Topic.VIRTUAL_CAMERA: "virtual-camera",
               RecordingState.BELOW_RATE: "record-rate"}
# answers to the user's own key press, on screen only: stderr gets what they might otherwise miss
SCREEN_ONLY = {EffectState.CHOSEN}


class MainWindow(QMainWindow):
    """The live window over a session. notices: lines to show at start (effects that failed to load)."""

    def __init__(self, session: LiveSession, settings: AppSettings | None = None,
                 notices: list[str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings or AppSettings()
        self.quitting = False
        self._pending: Output | None = None
        self._pending_lock = threading.Lock()
        self._signal_pending = False
        self._said: dict[str, str] = {}  # notice key -> the line last printed on stderr

        self.view = VideoView(self)
        self.setCentralWidget(self.view)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setWindowTitle("fastvit-fx")
        self._size_to_screen()

        session.add_sink(self._on_output)
        self._bridge = _Bridge()
        self._bridge.frame_ready.connect(self._show_pending, Qt.ConnectionType.QueuedConnection)

        self.bindings = self._app_bindings()
        reserved = {k for b in self.bindings for k in b.keys}
        pairs, warnings = assign_preset_keys(session.presets, reserved)
        self.preset_keys = {id(preset): key for key, preset in pairs}
        for key, preset in pairs:
            self.bindings.append(Binding([key], key_label(key), f"effect: {preset.name}",
                                         lambda p=preset: self.set_effect(p), group="effect"))
        self._key_map = {k: b for b in self.bindings for k in b.keys}
        for text in list(notices or []) + warnings:
            self._say(f"startup-{hash(text)}", text, "warning", seconds=12)
        self._fill_help()
        self._show_effect()

        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self._tick)

    # -- setup ----------------------------------------------------------------------------------
    def _size_to_screen(self) -> None:
        width, height = 1280, 720
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            avail = screen.availableGeometry()
            scale = min(1.0, 0.85 * avail.width() / width, 0.85 * avail.height() / height)
            width, height = int(width * scale), int(height * scale)
        self.resize(max(width, 480), max(height, 270))

    def _app_bindings(self) -> list[Binding]:
        K = Qt.Key
        return [
            Binding([int(K.Key_Left.value), int(K.Key_Right.value)], "Left / Right", "previous / next effect",
                    lambda: None),  # handled in keyPressEvent (direction depends on the key)
            Binding([int(K.Key_R.value), int(K.Key_Space.value)], "R / Space", "start / stop recording",
                    self.toggle_recording),
            Binding([SHIFT_R], "Shift+R", "record, with the raw camera too (to re-render)",
                    lambda: self.toggle_recording(raw=True)),
            Binding([int(K.Key_S.value)], "S", "save a snapshot (PNG)", self.snapshot),
            Binding([int(K.Key_V.value)], "V", "virtual camera on / off (for Zoom, Meet, OBS...)",
                    self.toggle_virtual_camera),
            Binding([int(K.Key_M.value)], "M", "mirror on / off", self.toggle_mirror),
            Binding([int(K.Key_F.value)], "F", "fullscreen on / off", self.toggle_fullscreen),
            Binding([int(K.Key_D.value)], "D", "mask debug view on / off", self.toggle_debug),
            Binding([int(K.Key_H.value)], "H", "this help on / off", self.toggle_help),
            Binding([int(K.Key_Q.value), int(K.Key_Escape.value)], "Q / Esc", "quit", self.close),
        ]

    def _fill_help(self) -> None:
        rows = [(b.label, b.description) for b in self.bindings if b.group == "app"]
        rows.insert(1, ("1 - 9", "pick an effect (list on the right)"))
        self.view.hud.help_rows = rows
        self.view.hud.effect_rows = [
            (key_label(self.preset_keys[id(p)]) if id(p) in self.preset_keys else "", p.name,
             getattr(p, "description", "") or "")
            for p in self.session.presets
        ]

    def start(self) -> None:
        """Start the session (a source that won't open falls back to the demo, with the reason shown)."""
        self.session.start()
        self.timer.start()
        self._tick()

    # -- frames ---------------------------------------------------------------------------------
    def _on_output(self, output: Output) -> None:  # render thread
        with self._pending_lock:
            self._pending = output
            if self._signal_pending:
                return
            self._signal_pending = True
        self._bridge.frame_ready.emit()

    def _show_pending(self) -> None:  # GUI thread
        with self._pending_lock:
            output, self._pending = self._pending, None
            self._signal_pending = False
        if output is not None:
            self.view.set_frame(output.image)

    # -- actions: session calls, then what they changed on screen ---------------------------------
    @property
    def effect(self):
        return self.session.effect

    def set_effect(self, preset) -> None:
        self.session.set_effect(preset)
        self._show_effect()

    def cycle_effect(self, step: int) -> None:
        self.session.cycle_effect(step)
        self._show_effect()

    def _show_effect(self) -> None:
        preset = self.session.effect
        self.settings.effect = preset.name
        hud = self.view.hud
        hud.effect = preset.name
        hud.effect_key = key_label(self.preset_keys[id(preset)]) if id(preset) in self.preset_keys else ""
        self.setWindowTitle(f"fastvit-fx - {preset.name}")
        self._show_events()

    def toggle_mirror(self) -> None:
        mirror = self.session.toggle_mirror()
        self.settings.mirror = mirror
        self.view.hud.mirror = mirror
        self._say("mirror", "mirror on" if mirror else "mirror off", "info", 2, echo=False)

    def toggle_debug(self) -> None:
        self.view.hud.debug = self.session.toggle_debug()

    def toggle_help(self) -> None:
        self.view.show_help = not self.view.show_help
        self.view.update()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def toggle_recording(self, raw: bool | None = None) -> None:
        self.session.toggle_recording(raw)
        self._show_events()

    def toggle_virtual_camera(self) -> None:
        self.session.toggle_virtual_camera()
        self._show_events()

    def snapshot(self) -> None:
        self.session.snapshot()
        self._show_events()

    # -- keys -------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = int(event.key().value) if hasattr(event.key(), "value") else int(event.key())
        if key in (int(Qt.Key.Key_Left.value), int(Qt.Key.Key_Right.value)):
            self.cycle_effect(-1 if key == int(Qt.Key.Key_Left.value) else 1)
            return
        shifted = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        binding = (self._key_map.get(key | SHIFT) if shifted else None) or self._key_map.get(key)
        if binding is None:
            super().keyPressEvent(event)
            return
        if event.isAutoRepeat() and binding.group == "app":
            return  # holding R must not start and stop recording over and over
        binding.action()

    # -- status -----------------------------------------------------------------------------------
    def _show_events(self) -> None:
        for event in self.session.poll():
            self.show_event(event)
        self._update_recording_hud()
        self.view.update()

    def show_event(self, event: Event) -> None:
        level, seconds = NOTICE_STYLE.get(event.state, ("info", 6))
        if event.status is not None:  # the source says how long its news is worth showing
            seconds = event.status.show_s
        key = NOTICE_KEYS.get(event.state) or NOTICE_KEYS[event.topic]
        self._say(key, event.message, level, seconds, echo=event.state not in SCREEN_ONLY)

    def _say(self, key: str, text: str | None, level: str, seconds: float | None, echo: bool = True) -> None:
        """Show a notice (None clears it) and print it on stderr, once: the same line under the same
        key is not printed again until something else was said there."""
        self.view.notify(key, text, level, seconds)
        if text is None:
            self._said.pop(key, None)
        elif echo and self._said.get(key) != text:
            self._said[key] = text
            print(f"fastvit-fx: {text}", file=sys.stderr, flush=True)

    def _update_recording_hud(self) -> None:
        hud = self.view.hud
        sink = self.session.recording
        hud.recording = self.session.is_recording
        hud.rec_seconds = sink.recorder.elapsed if hud.recording else 0.0
        hud.rec_dropped = sink.recorder.dropped if sink is not None else 0
        health = self.session.recording_health()
        hud.rec_warning = (health.warning or "") if health is not None else ""

    def _tick(self) -> None:
        stats = self.session.stats()
        hud = self.view.hud
        hud.fps, hud.seg_ms, hud.seg_fps = stats.fps, stats.seg_ms, stats.seg_fps
        hud.latency_ms = stats.latency_ms
        hud.backend = stats.backend or ""
        hud.zoomed = stats.zoomed
        hud.input_size = stats.input_size
        if not hud.backend and self.session.driver.truth_masks and self.session.driver.segmenter is None:
            hud.backend = "mask: the demo's exact one (no segmenter)"
        hud.render_ms = stats.render_ms
        hud.mirror, hud.debug = self.session.mirror, self.session.debug
        hud.source = self.session.source_label()
        self._show_events()

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.quitting = True
        self.timer.stop()
        self.session.stop()
        self._show_events()
        self.settings.sync()
        event.accept()
