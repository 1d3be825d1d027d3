"""The main window: owns the pipeline, the recorder and the settings; maps keys to actions.

Frames arrive on the pipeline's render thread; the window keeps only the newest and shows it on the
GUI thread (a queued signal, coalesced: a busy GUI skips frames, it never queues them). A timer reads
the pipeline's numbers and the sources' status a few times a second for the HUD and the notices.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QGuiApplication, QKeyEvent
from PyQt6.QtWidgets import QMainWindow

from ..capture import DemoSource, FrameSource, SourceError
from ..errors import UserError
from ..pipeline import Output, Pipeline
from ..record import Recorder, RecordError, prepare_folder, timestamped_path
from .hotkeys import Binding, assign_preset_keys, key_label
from .settings import AppSettings
from .view import VideoView


@dataclass
class PlainPreset:
    """Stands in for an fx Preset when the effects engine is unavailable."""

    name: str
    hotkey: str | None = None
    description: str = ""


class _Bridge(QObject):
    frame_ready = pyqtSignal()


class MainWindow(QMainWindow):
    """The live window. `presets`: fx Presets (name, hotkey, description) in order; `renderer_factory`
    builds a renderer for one (default: fx.EffectRenderer; None result: show the frame unchanged)."""

    def __init__(self, source: FrameSource, presets: list | None = None, settings: AppSettings | None = None, *,
                 segmenter=None, segmenter_factory: Callable[[], object] | None = None,
                 renderer_factory: Callable[[object], object] | None = None, effect: str | None = None,
                 record_dir: str | Path | None = None, demo_factory: Callable[[], FrameSource] = DemoSource,
                 notices: list[str] | None = None, truth_masks: bool = False) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.presets = list(presets or [PlainPreset("none", None, "the camera as it is")])
        self.renderer_factory = renderer_factory or _default_renderer_factory
        self.record_dir = Path(record_dir) if record_dir else self.settings.record_dir
        self.demo_factory = demo_factory
        self.recorder: Recorder | None = None
        self._rec_sink = None
        self.last_clip = None
        self.last_snapshot: Path | None = None
        self.quitting = False
        self._pending: Output | None = None
        self._pending_lock = threading.Lock()
        self._signal_pending = False
        self._source_status: str | None = None
        self._model_status: str | None = None
        self._had_model_problem = False

        self.view = VideoView(self)
        self.setCentralWidget(self.view)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setWindowTitle("fastvit-fx")
        self._size_to_screen()

        self.pipeline = Pipeline(source, segmenter=segmenter, segmenter_factory=segmenter_factory,
                                 mirror=self.settings.mirror, truth_masks=truth_masks)
        self.pipeline.add_sink(self._on_output)
        self._bridge = _Bridge()
        self._bridge.frame_ready.connect(self._show_pending, Qt.ConnectionType.QueuedConnection)

        self.bindings = self._app_bindings()
        reserved = {k for b in self.bindings for k in b.keys}
        pairs, warnings = assign_preset_keys(self.presets, reserved)
        self.preset_keys = {id(preset): key for key, preset in pairs}
        for key, preset in pairs:
            self.bindings.append(Binding([key], key_label(key), f"effect: {preset.name}",
                                         lambda p=preset: self.set_effect(p), group="effect"))
        self._key_map = {k: b for b in self.bindings for k in b.keys}
        for text in list(notices or []) + warnings:
            self.view.notify(f"startup-{hash(text)}", text, "warning", seconds=12)

        self.effect_index = 0
        wanted = effect or self.settings.effect
        names = [p.name for p in self.presets]
        if wanted in names:
            self.effect_index = names.index(wanted)
        else:
            self.effect_index = next((i for i, p in enumerate(self.presets) if p.name not in ("none", "mask")), 0)
        self._apply_effect()
        self._fill_help()

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
            Binding([int(K.Key_S.value)], "S", "save a snapshot (PNG)", self.snapshot),
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
            for p in self.presets
        ]

    def start(self) -> None:
        """Start the pipeline; a source that won't open falls back to the demo, with the reason shown."""
        try:
            self.pipeline.start()
        except (SourceError, UserError) as exc:
            failed = self.pipeline.source
            demo = self.demo_factory()
            self.pipeline.set_source(demo, start=False, stop_old=False)
            failed.stop()
            self.view.notify("fallback", f"{exc} - showing the demo instead", "warning", seconds=None)
            print(f"fastvit-fx: {exc} - showing the demo instead", file=sys.stderr)
            self.pipeline.start()
        self._update_source_label()
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

    # -- actions ---------------------------------------------------------------------------------
    @property
    def effect(self):
        return self.presets[self.effect_index]

    def set_effect(self, preset) -> None:
        self.effect_index = next(i for i, p in enumerate(self.presets) if p is preset)
        self._apply_effect()
        self._describe_effect()

    def cycle_effect(self, step: int) -> None:
        self.effect_index = (self.effect_index + step) % len(self.presets)
        self._apply_effect()
        self._describe_effect()

    def _describe_effect(self) -> None:
        description = getattr(self.effect, "description", "") or ""
        self.view.notify("effect", f"{self.effect.name}: {description}" if description else None, "info", 3)

    def _apply_effect(self) -> None:
        preset = self.effect
        try:
            renderer = self.renderer_factory(preset)
        except Exception as exc:
            self.view.notify("effect-error", f"effect {preset.name!r} could not start ({exc})", "error", 8)
            renderer = None
        self.pipeline.set_effect(renderer, name=preset.name)
        self.settings.effect = preset.name
        hud = self.view.hud
        hud.effect = preset.name
        hud.effect_key = key_label(self.preset_keys[id(preset)]) if id(preset) in self.preset_keys else ""
        self.setWindowTitle(f"fastvit-fx - {preset.name}")
        self.view.update()

    def toggle_mirror(self) -> None:
        self.pipeline.mirror = not self.pipeline.mirror
        self.settings.mirror = self.pipeline.mirror
        self.view.hud.mirror = self.pipeline.mirror
        self.view.notify("mirror", "mirror on" if self.pipeline.mirror else "mirror off", "info", 2)

    def toggle_debug(self) -> None:
        self.pipeline.debug = not self.pipeline.debug
        self.view.hud.debug = self.pipeline.debug

    def toggle_help(self) -> None:
        self.view.show_help = not self.view.show_help
        self.view.update()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def toggle_recording(self) -> None:
        if self.recorder is not None and self.recorder.active:
            self.stop_recording()
        else:
            self.start_recording()

    def start_recording(self) -> bool:
        recorder = Recorder(self.record_dir, fps=self.pipeline.source.fps or 30.0)
        try:
            path = recorder.start()
        except RecordError as exc:
            self.view.notify("record", str(exc), "error", seconds=12)
            return False
        self.recorder = recorder
        self._rec_sink = lambda out, r=recorder: r.write(out.image, out.frame.t)
        self.pipeline.add_sink(self._rec_sink)
        self.view.notify("record", f"recording to {path}", "info", seconds=4)
        self._update_recording_hud()
        return True

    def stop_recording(self):
        recorder = self.recorder
        if recorder is None:
            return None
        if self._rec_sink is not None:
            self.pipeline.remove_sink(self._rec_sink)
            self._rec_sink = None
        info = recorder.stop()
        self.recorder = None
        self.last_clip = info
        if info is not None and info.error:
            self.view.notify("record", info.error, "error", seconds=15)
        elif info is not None and info.frames:
            text = f"saved {info.path} ({info.frames} frames, {info.duration:.1f} s"
            text += f", {info.dropped} dropped)" if info.dropped else ")"
            self.view.notify("record", text, "ok", seconds=8)
        else:
            self.view.notify("record", "recording stopped before any frame arrived; nothing saved", "warning", 6)
        self._update_recording_hud()
        return info

    def snapshot(self) -> Path | None:
        output = self.pipeline.last_output
        if output is None:
            self.view.notify("snapshot", "no frame yet to save", "warning", 4)
            return None
        try:
            folder = prepare_folder(self.record_dir)
        except RecordError as exc:
            self.view.notify("snapshot", str(exc).replace("cannot record to", "cannot save a snapshot in"),
                             "error", 10)
            return None
        path = timestamped_path(folder, suffix=".png")
        if not cv2.imwrite(str(path), output.image):
            self.view.notify("snapshot", f"cannot save a snapshot in {folder}", "error", 10)
            return None
        self.last_snapshot = path
        self.view.notify("snapshot", f"saved {path}", "ok", 5)
        return path

    # -- keys -------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = int(event.key().value) if hasattr(event.key(), "value") else int(event.key())
        if key in (int(Qt.Key.Key_Left.value), int(Qt.Key.Key_Right.value)):
            self.cycle_effect(-1 if key == int(Qt.Key.Key_Left.value) else 1)
            return
        binding = self._key_map.get(key)
        if binding is None:
            super().keyPressEvent(event)
            return
        if event.isAutoRepeat() and binding.group == "app":
            return  # holding R must not start and stop recording over and over
        binding.action()

    # -- status -----------------------------------------------------------------------------------
    def _update_source_label(self) -> None:
        source = self.pipeline.source
        size = f" {source.size[0]}x{source.size[1]}" if source.size else ""
        self.view.hud.source = f"{source.name}{size}"

    def _update_recording_hud(self) -> None:
        hud = self.view.hud
        recorder = self.recorder
        hud.recording = recorder is not None and recorder.active
        hud.rec_seconds = recorder.elapsed if hud.recording else 0.0
        hud.rec_dropped = recorder.dropped if recorder is not None else 0

    def _tick(self) -> None:
        stats = self.pipeline.stats()
        hud = self.view.hud
        hud.fps, hud.seg_ms, hud.seg_fps = stats["fps"], stats["seg_ms"], stats["seg_fps"]
        hud.backend = stats["backend"] or ""
        hud.zoomed = bool(stats.get("zoomed"))
        if not hud.backend and self.pipeline.truth_masks and self.pipeline.segmenter is None:
            hud.backend = "mask: the demo's exact one (no segmenter)"
        hud.render_ms = stats["render_ms"]
        hud.mirror, hud.debug = self.pipeline.mirror, self.pipeline.debug
        self._update_source_label()
        # the source: camera lost / retrying / back
        source = self.pipeline.source
        if source.status != self._source_status:
            self._source_status = source.status
            if source.status is None:
                self.view.notify("source", None)
            elif source.state == "reconnecting":
                self.view.notify("source", source.status, "warning", seconds=None)
            elif "reconnected" in source.status:
                self.view.notify("source", source.status, "ok", seconds=5)
            else:
                self.view.notify("source", source.status, "info", seconds=8)
        # the model: missing weights, loading, loaded
        status = self.pipeline.model_status
        if status != self._model_status:
            self._model_status = status
            if status is None:
                if self._had_model_problem:
                    self.view.notify("model", f"segmentation model ready ({hud.backend or 'loaded'}); effects are on",
                                     "ok", seconds=5)
                else:
                    self.view.notify("model", None)
            elif status.startswith("loading"):
                self.view.notify("model", status, "info", seconds=None)
            else:
                self._had_model_problem = True
                self.view.notify("model", f"no person segmentation: {status}. Effects run as if nobody were "
                                 "there until the model loads (retried every few seconds)", "warning", seconds=None)
        if self.pipeline.render_error:
            self.view.notify("render", self.pipeline.render_error, "error", seconds=None)
        else:
            self.view.notify("render", None)
        # the recorder: stopped by a write error on its own thread
        recorder = self.recorder
        if recorder is not None and not recorder.active and recorder.error:
            if self._rec_sink is not None:
                self.pipeline.remove_sink(self._rec_sink)
                self._rec_sink = None
            self.last_clip = recorder.stop()
            self.recorder = None
            self.view.notify("record", recorder.error, "error", seconds=15)
        self._update_recording_hud()
        self.view.update()

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.quitting = True
        self.timer.stop()
        if self.recorder is not None:
            self.stop_recording()
        self.pipeline.stop()
        self.settings.sync()
        event.accept()


def _default_renderer_factory(preset):
    if isinstance(preset, PlainPreset):
        return None
    from ..fx import EffectRenderer

    return EffectRenderer(preset)
