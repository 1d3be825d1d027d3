"""The live session, without Qt: the driver, the effect list, the toggles, recording, snapshots and
the sinks, with what happens reported as typed events (`poll()`), never as text to pattern-match.

    session = LiveSession(source, presets, make_effect=EffectRenderer, segmenter_factory=..., record_dir=...)
    session.add_sink(show)           # the window; a virtual camera would be another sink
    session.start()
    session.cycle_effect(+1); session.toggle_mirror(); session.toggle_recording(); session.snapshot()
    for event in session.poll(): ...  # Event(Topic.SOURCE, SourceState.LOST, "camera 0 disconnected; ...")
    session.stop()
"""
from __future__ import annotations

import enum
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..io.capture import FrameSource, SourceError, SourceStatus
from ..errors import UserError
from ..io.microphone import SharedAudio
from ..io.record import DEFAULT_CRF, ClipInfo, RecordError, RecordHealth
from ..io.record_sound import SoundRecorder
from .compose import View
from .driver import DEFAULT_MASK_MODE, LiveDriver, MaskMode, ModelState
from .raw_sink import RawRecorderSink
from .sinks import RecorderSink, save_snapshot
from .stats import LiveStats
from .step import Output
from .virtual_camera import VirtualCameraError, VirtualCameraSettings, VirtualCameraSink, VirtualCameraState


class Topic(enum.Enum):
    SOURCE = "source"
    MODEL = "model"
    EFFECT = "effect"
    RECORDING = "recording"
    SNAPSHOT = "snapshot"
    VIRTUAL_CAMERA = "virtual camera"


class SourceState(enum.Enum):
    RUNNING = "running"
    FELL_BACK = "fell back"  # the chosen source would not open; the demo runs instead
    LOST = "lost"  # a camera unplugged mid-run; retried in the background
    RECOVERED = "recovered"  # ... and back
    ENDED = "ended"  # a video that does not loop ran out


class EffectState(enum.Enum):
    CHOSEN = "chosen"
    FAILED = "failed"  # the effect could not start, or throws on frames (the frame is shown as it is)
    WORKING = "working"  # a failure is over (another effect chosen)


class RecordingState(enum.Enum):
    RECORDING = "recording"
    SAVED = "saved"
    EMPTY = "empty"  # stopped before any frame arrived; nothing saved
    FAILED = "failed"  # could not start, or stopped by a write error (full disk, folder gone)
    BELOW_RATE = "below rate"  # the clip fell below the camera's rate (said once each time it happens)


class SnapshotState(enum.Enum):
    SAVED = "saved"
    NO_FRAME = "no frame"
    FAILED = "failed"


@dataclass(frozen=True)
class Event:
    topic: Topic
    state: enum.Enum  # SourceState, ModelState, EffectState, RecordingState, SnapshotState or VirtualCameraState
    message: str | None = None  # one line for the user; None: nothing to say (a problem is over)
    status: SourceStatus | None = None  # a source's status behind the event: its kind and how long to show it


class LiveSession:
    """presets: objects with .name (and optionally .hotkey, .description), in order. make_effect(preset)
    builds the effect for one (None: the frame as it is). segmenter / segmenter_factory / truth_masks:
    as for LiveDriver. demo_factory: the source to fall back on when the chosen one won't open.
    crf: the recorder's constant quality (x264 CRF; lower is better and bigger)."""

    def __init__(self, source: FrameSource, presets: list, *, make_effect: Callable[[object], object] | None = None,
                 segmenter=None, segmenter_factory: Callable[[], object] | None = None,
                 record_dir: str | Path = ".", effect: str | None = None, mirror: bool = False,
                 mask_mode: MaskMode | str = DEFAULT_MASK_MODE, truth_masks: bool = False,
                 demo_factory: Callable[[], FrameSource] | None = None, record_raw: bool = False,
                 virtual_camera_settings: VirtualCameraSettings = VirtualCameraSettings(),
                 open_audio: Callable[[], tuple[object | None, str | None]] | None = None,
                 crf: int = DEFAULT_CRF) -> None:
        if not presets:
            raise ValueError("a session needs at least one preset")
        self.presets = list(presets)
        self.make_effect = make_effect or (lambda preset: None)
        self.record_dir = Path(record_dir)
        self.demo_factory = demo_factory
        self.crf = crf
        self.driver = LiveDriver(source, segmenter, segmenter_factory=segmenter_factory, view=View(mirror=mirror),
                                 mask_mode=mask_mode, truth_masks=truth_masks)
        self.recording: RecorderSink | None = None
        self.record_raw = record_raw  # every clip also gets the raw camera beside it
        self.open_audio = open_audio  # () -> (an AudioSource, None) or (None, why clips are silent); None: silent
        self._audio: tuple[object | None, str | None] | None = None  # opened at the first recording
        self.raw_recording: RawRecorderSink | None = None
        self.virtual_camera_settings = virtual_camera_settings
        self.virtual_camera: VirtualCameraSink | None = None
        self.last_clip: ClipInfo | None = None
        self.last_raw_clip: ClipInfo | None = None
        self.last_snapshot: Path | None = None
        self.fell_back = False
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._seen_source: tuple[FrameSource, str, str | None] | None = None
        self._seen_model: tuple[ModelState, str | None] | None = None
        self._model_was_missing = False
        self._seen_render_error: str | None = None
        self._said_below_rate = False  # this clip's below-rate warning was reported
        names = [p.name for p in self.presets]
        self.effect_index = names.index(effect) if effect in names else next(
            (i for i, p in enumerate(self.presets) if p.name not in ("none", "mask")), 0)
        self._apply_effect(announce=False)

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start; a source that won't open falls back to the demo (Event FELL_BACK says why)."""
        try:
            self.driver.start()
        except (SourceError, UserError) as exc:
            if self.demo_factory is None:
                raise
            failed, demo = self.driver.source, self.demo_factory()
            status = demo.note_fallback(str(exc))  # shown for a while, then let go (status.show_s)
            self.driver.set_source(demo, start=False, stop_old=False)
            failed.stop()
            self.fell_back = True
            self._emit(Topic.SOURCE, SourceState.FELL_BACK, status.message, status)
            self.driver.start()

    def stop(self) -> None:
        """Finish a clip being recorded, then stop everything."""
        if self.recording is not None:
            self.stop_recording()
        self.stop_virtual_camera()
        self.driver.stop()

    @property
    def running(self) -> bool:
        return self.driver.running

    @property
    def source(self) -> FrameSource:
        return self.driver.source

    def source_label(self) -> str:
        source = self.driver.source
        size = f" {source.size[0]}x{source.size[1]}" if source.size else ""
        return f"{source.name}{size}"

    def add_sink(self, sink: Callable[[Output], None]) -> None:
        self.driver.add_sink(sink)

    def remove_sink(self, sink: Callable[[Output], None]) -> None:
        self.driver.remove_sink(sink)

    def stats(self) -> LiveStats:
        return self.driver.stats()

    @property
    def last_output(self) -> Output | None:
        return self.driver.last_output

    # -- effects ----------------------------------------------------------------------------------
    @property
    def effect(self):
        return self.presets[self.effect_index]

    def set_effect(self, preset_or_name) -> None:
        names = [p.name for p in self.presets]
        if isinstance(preset_or_name, str):
            index = names.index(preset_or_name)
        else:
            index = next(i for i, p in enumerate(self.presets) if p is preset_or_name)
        self.effect_index = index
        self._apply_effect()

    def cycle_effect(self, step: int) -> None:
        self.effect_index = (self.effect_index + step) % len(self.presets)
        self._apply_effect()

    def _apply_effect(self, announce: bool = True) -> None:
        preset = self.effect
        try:
            effect = self.make_effect(preset)
        except Exception as exc:
            self._emit(Topic.EFFECT, EffectState.FAILED, f"effect {preset.name!r} could not start ({exc})")
            effect = None
        self.driver.set_effect(effect, name=preset.name)
        if announce:
            description = getattr(preset, "description", "") or ""
            self._emit(Topic.EFFECT, EffectState.CHOSEN, f"{preset.name}: {description}" if description else None)

    # -- toggles ----------------------------------------------------------------------------------
    @property
    def mirror(self) -> bool:
        return self.driver.view.mirror

    def toggle_mirror(self) -> bool:
        return self.driver.set_view(mirror=not self.mirror).mirror

    @property
    def debug(self) -> bool:
        return self.driver.view.debug

    def toggle_debug(self) -> bool:
        return self.driver.set_view(debug=not self.debug).debug

    @property
    def mask_mode(self) -> MaskMode:
        return self.driver.mask_mode

    def set_mask_mode(self, mode: MaskMode | str) -> None:
        self.driver.mask_mode = MaskMode(mode)

    # -- recording and snapshots ------------------------------------------------------------------
    @property
    def is_recording(self) -> bool:
        return self.recording is not None and self.recording.active

    def toggle_recording(self, raw: bool | None = None) -> None:
        """raw: also record the camera as captured, beside the clip (None: as `record_raw` says)."""
        if self.is_recording:
            self.stop_recording()
        else:
            self.start_recording(raw)

    def start_recording(self, raw: bool | None = None) -> Path | None:
        fps = self.driver.source.fps or 30.0
        audio, silent_because = self._audio_source()
        sink = RecorderSink(self.record_dir, fps=fps,
                            recorder=SoundRecorder(self.record_dir, audio and audio.reader(), fps=fps, crf=self.crf))
        try:
            path = sink.start()
        except RecordError as exc:
            self._emit(Topic.RECORDING, RecordingState.FAILED, str(exc))
            return None
        self.recording = sink
        text = f"recording to {path}"
        silent_because = silent_because or sink.recorder.sound_note
        if silent_because:
            text += f" ({silent_because})"
        if self.record_raw if raw is None else raw:
            raw_sink = RawRecorderSink(path, fps=fps, audio=audio and audio.reader())
            try:
                text += f" and the raw camera to {raw_sink.start().name}"
                self.raw_recording = raw_sink
                self.driver.add_sink(raw_sink)
            except RecordError as exc:
                text += f" (no raw clip: {exc})"
        self._said_below_rate = False
        self.driver.add_sink(sink)
        self._emit(Topic.RECORDING, RecordingState.RECORDING, text)
        return path

    def stop_recording(self) -> ClipInfo | None:
        sink, self.recording = self.recording, None
        raw_info = self._stop_raw_recording()
        if sink is None:
            return None
        self.driver.remove_sink(sink)
        info = sink.stop()
        self.last_clip = info
        if info is not None and info.error:
            self._emit(Topic.RECORDING, RecordingState.FAILED, info.error)
        elif info is not None and info.frames:
            text = f"saved {info.path} ({info.frames} frames, {info.duration:.1f} s"
            text += f", {info.dropped} dropped)" if info.dropped else ")"
            if raw_info is not None:
                text += f" and {raw_info.path.name}" if raw_info.frames and not raw_info.error else \
                    f"; raw clip: {raw_info.error or 'no frames'}"
            self._emit(Topic.RECORDING, RecordingState.SAVED, text)
        else:
            self._emit(Topic.RECORDING, RecordingState.EMPTY, "recording stopped before any frame arrived; "
                       "nothing saved")
        return info

    def _audio_source(self) -> tuple[object | None, str | None]:
        """The microphone (shared by the clip and the raw clip), opened once; the reason clips are silent
        is printed once."""
        if self._audio is None:
            audio, note = self.open_audio() if self.open_audio is not None else (None, None)
            self._audio = (SharedAudio(audio) if audio is not None else None), note
            if self._audio[1]:
                print(f"fastvit-fx: {self._audio[1]}", file=sys.stderr)
        return self._audio

    def _stop_raw_recording(self) -> ClipInfo | None:
        raw_sink, self.raw_recording = self.raw_recording, None
        if raw_sink is None:
            return None
        self.driver.remove_sink(raw_sink)
        self.last_raw_clip = raw_sink.stop()
        return self.last_raw_clip

    def recording_health(self) -> RecordHealth | None:
        """The clip's health while recording (its rate against the camera's, drops), else None."""
        sink = self.recording
        return sink.recorder.health() if sink is not None and sink.active else None

    def snapshot(self) -> Path | None:
        output = self.driver.last_output
        if output is None:
            self._emit(Topic.SNAPSHOT, SnapshotState.NO_FRAME, "no frame yet to save")
            return None
        try:
            path = save_snapshot(self.record_dir, output)
        except RecordError as exc:
            self._emit(Topic.SNAPSHOT, SnapshotState.FAILED, str(exc))
            return None
        self.last_snapshot = path
        self._emit(Topic.SNAPSHOT, SnapshotState.SAVED, f"saved {path}")
        return path

    # -- virtual camera ---------------------------------------------------------------------------
    @property
    def virtual_camera_on(self) -> bool:
        return self.virtual_camera is not None and self.virtual_camera.active

    def toggle_virtual_camera(self) -> bool:
        if self.virtual_camera is not None:
            self.stop_virtual_camera()
        else:
            self.start_virtual_camera()
        return self.virtual_camera_on

    def start_virtual_camera(self) -> str | None:
        """Send the picture (no HUD) to a virtual camera at the source's size and rate; the device's
        name, or None with a FAILED event saying what to install or load (the session keeps running)."""
        if self.virtual_camera is not None:
            return self.virtual_camera.device
        output, source = self.driver.last_output, self.driver.source
        width, height = (output.image.shape[1], output.image.shape[0]) if output is not None else \
            (source.size or (1280, 720))
        sink = VirtualCameraSink(width, height, fps=source.fps or 30.0, settings=self.virtual_camera_settings,
                                 shown_mirrored=lambda: self.mirror)
        try:
            device = sink.start()
        except VirtualCameraError as exc:  # the window shows the event and echoes it on stderr
            self._emit(Topic.VIRTUAL_CAMERA, VirtualCameraState.FAILED, str(exc))
            return None
        self.virtual_camera = sink
        self.driver.add_sink(sink)
        self._emit(Topic.VIRTUAL_CAMERA, VirtualCameraState.ON,
                   f"virtual camera on: {device} ({sink.width}x{sink.height} at {sink.fps:g} fps, {sink.format})")
        return device

    def stop_virtual_camera(self) -> None:
        sink, self.virtual_camera = self.virtual_camera, None
        if sink is None:
            return
        self.driver.remove_sink(sink)
        sink.stop()
        if sink.error is None:
            self._emit(Topic.VIRTUAL_CAMERA, VirtualCameraState.OFF, "virtual camera off")

    # -- what happened ----------------------------------------------------------------------------
    def poll(self) -> list[Event]:
        """Events since the last call: actions' outcomes, and changes in the source, the model, the
        effect's health and the recorder (a write error stops a clip on the recorder's thread)."""
        self._check_source()
        self._check_model()
        self._check_effect()
        self._check_recording()
        self._check_virtual_camera()
        with self._lock:
            events, self._events = self._events, []
        return events

    def _emit(self, topic: Topic, state: enum.Enum, message: str | None = None,
              status: SourceStatus | None = None) -> None:
        with self._lock:
            self._events.append(Event(topic, state, message, status))

    def _check_source(self) -> None:
        # compared by the status object, not its words: a status going stale (SourceStatus.show_s)
        # is the window's business, not news
        source = self.driver.source
        info = source.status_info
        now = (source, source.state, info)
        before, self._seen_source = self._seen_source, now
        if before is None or before[0] is not source or (now[1], now[2]) == (before[1], before[2]):
            return  # a new source has no news yet
        message = info.message if info is not None else None
        if source.state == "reconnecting":
            self._emit(Topic.SOURCE, SourceState.LOST, message, info)
        elif source.state == "ended":
            self._emit(Topic.SOURCE, SourceState.ENDED, message, info)
        elif before[1] == "reconnecting" and source.state == "running":
            self._emit(Topic.SOURCE, SourceState.RECOVERED, message or f"{source.name} is back", info)
        else:
            self._emit(Topic.SOURCE, SourceState.RUNNING, message, info)

    def _check_model(self) -> None:
        now = (self.driver.model_state, self.driver.model_message)
        before, self._seen_model = self._seen_model, now
        if now == before or (before is None and now[1] is None):
            return  # nothing new, or a model ready from the start: nothing to say
        state, message = now
        if state is ModelState.READY:
            backend = getattr(self.driver.segmenter, "backend_name", None) or "loaded"
            self._emit(Topic.MODEL, state, f"segmentation model ready ({backend}); effects are on"
                       if self._model_was_missing else None)
        elif state in (ModelState.UNAVAILABLE, ModelState.FAILED):
            self._model_was_missing = True
            self._emit(Topic.MODEL, state, f"no person segmentation: {message}. Effects run as if nobody were "
                       "there until the model loads (retried every few seconds)")
        else:
            self._emit(Topic.MODEL, state, message)

    def _check_effect(self) -> None:
        error = self.driver.render_error
        if error == self._seen_render_error:
            return
        self._seen_render_error = error
        self._emit(Topic.EFFECT, EffectState.FAILED if error else EffectState.WORKING, error)

    def _check_recording(self) -> None:
        sink = self.recording
        if sink is not None and sink.active:
            warning = sink.recorder.health().warning
            if warning and not self._said_below_rate:  # once per episode; the HUD keeps the live numbers
                self._emit(Topic.RECORDING, RecordingState.BELOW_RATE, warning)
            self._said_below_rate = bool(warning)
        if sink is not None and not sink.active and sink.error:
            self.driver.remove_sink(sink)
            self.recording = None
            self.last_clip = sink.stop()
            self._stop_raw_recording()  # a raw clip ends with its clip
            self._emit(Topic.RECORDING, RecordingState.FAILED, sink.error)
        raw = self.raw_recording
        if raw is not None and not raw.active and raw.error:
            self._stop_raw_recording()
            self._emit(Topic.RECORDING, RecordingState.FAILED, f"raw clip: {raw.error}")

    def _check_virtual_camera(self) -> None:
        sink = self.virtual_camera
        if sink is not None and sink.error:
            self.stop_virtual_camera()
            self._emit(Topic.VIRTUAL_CAMERA, VirtualCameraState.FAILED, sink.error)
