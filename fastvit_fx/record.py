"""Clip recording: H.264 in a fragmented MP4, written on its own thread.

`ClipWriter` is the plain synchronous writer (also used by offline render): PyAV, libx264 with a
fallback to other encoders, MP4 with `frag_keyframe+empty_moov+default_base_moof` so that every
finished fragment (one a second) is playable on its own: a crash or kill mid-clip leaves a file
that plays up to the last second or so.

`Recorder` is the live one: `write(frame, t)` never blocks (a bounded queue; a full queue drops the
frame and counts it), timestamps are the frames' real capture times so playback speed matches
reality, clips are named by date and time. A full disk or an unwritable folder stops the recording
with a one-line message naming the folder (`recorder.error`, `on_error`), never the app.
"""
from __future__ import annotations

import datetime as _dt
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import UserError

ENCODERS = ("libx264", "h264", "libopenh264", "mpeg4")
FRAGMENTED_MP4 = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "flush_packets": "1",  # each fragment goes to the OS as soon as it is complete
}


class RecordError(UserError):
    """Recording cannot start or had to stop; the message names the folder or file."""


def available_encoders() -> list[str]:
    import av

    have = set(av.codecs_available)
    out = []
    for name in ENCODERS:
        if name not in have:
            continue
        try:
            av.codec.Codec(name, "w")
        except Exception:
            continue
        out.append(name)
    return out


def timestamped_path(folder: str | Path, prefix: str = "fastvit-fx", suffix: str = ".mp4",
                     now: _dt.datetime | None = None) -> Path:
    """folder/prefix_YYYY-MM-DD_HH-MM-SS.suffix, with _2, _3 ... if that name is taken."""
    folder = Path(folder)
    stamp = (now or _dt.datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    path = folder / f"{prefix}_{stamp}{suffix}"
    n = 2
    while path.exists():
        path = folder / f"{prefix}_{stamp}_{n}{suffix}"
        n += 1
    return path


def _reason(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def prepare_folder(folder: str | Path) -> Path:
    """Create the folder if needed and check it is writable; RecordError naming it otherwise."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordError(f"cannot record to {folder}: {_reason(exc)}") from None
    if not folder.is_dir():
        raise RecordError(f"cannot record to {folder}: not a folder")
    probe = folder / f".fastvit-fx-write-test-{threading.get_ident()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"x")
    except OSError as exc:
        raise RecordError(f"cannot record to {folder}: {_reason(exc)}") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    return folder


class ClipWriter:
    """Synchronous writer: `write(image_bgr, pts)` with pts in units of `time_base`; `close()` flushes.

    Odd sizes are cropped by one pixel (H.264 in yuv420p needs even sizes); frames of another size
    are resized to the clip's. `codec` picks the encoder; by default the first available of ENCODERS.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: float | Fraction = 30,
                 time_base: Fraction | None = None, codec: str | None = None, crf: int = 20,
                 preset: str = "superfast", gop_seconds: float = 1.0) -> None:
        import av

        self.path = Path(path)
        self.width, self.height = int(width) & ~1, int(height) & ~1
        if self.width < 2 or self.height < 2:
            raise RecordError(f"{self.path}: frame size {width}x{height} is too small to encode")
        rate = Fraction(fps).limit_denominator(100000) if not isinstance(fps, Fraction) else fps
        self.fps = rate
        self.time_base = time_base or (1 / rate)
        candidates = [codec] if codec else available_encoders()
        if not candidates:
            raise RecordError("no video encoder available in this PyAV build (tried " + ", ".join(ENCODERS) + ")")
        try:
            self.container = av.open(str(self.path), "w", format="mp4", options=dict(FRAGMENTED_MP4))
        except Exception as exc:
            raise RecordError(f"cannot write {self.path}: {_reason(exc)}") from None
        self.stream = None
        errors = []
        for name in candidates:
            try:
                self.stream = self._add_stream(name, rate, crf, preset, gop_seconds)
                self.codec_name = name
                break
            except Exception as exc:  # encoder missing or refuses the settings: try the next
                errors.append(f"{name}: {_reason(exc)}")
        if self.stream is None:
            self.container.close()
            raise RecordError(f"{self.path}: no encoder would open ({'; '.join(errors)})")
        self.frames = 0
        self.last_pts: int | None = None
        self._closed = False

    def _add_stream(self, name: str, rate: Fraction, crf: int, preset: str, gop_seconds: float):
        gop = max(int(round(float(rate) * gop_seconds)), 1)
        if name == "libx264":
            options = {"preset": preset, "crf": str(crf), "tune": "zerolatency", "g": str(gop),
                       "keyint_min": str(gop)}
        elif name == "mpeg4":
            options = {"g": str(gop), "qscale": "3"}
        else:
            options = {"g": str(gop)}
        stream = self.container.add_stream(name, rate=rate, options=options)
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = self.time_base
        if name == "mpeg4":
            stream.codec_context.bit_rate = int(8e6 * self.width * self.height / (1280 * 720))
        stream.codec_context.open()  # fail here, not at the first frame, so the fallback can step in
        return stream

    def write(self, image: np.ndarray, pts: int | None = None) -> None:
        import av

        if image.shape[1] != self.width or image.shape[0] != self.height:
            if image.shape[1] >= self.width and image.shape[0] >= self.height and \
                    image.shape[1] - self.width <= 1 and image.shape[0] - self.height <= 1:
                image = image[:self.height, :self.width]
            else:
                import cv2

                image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        if pts is None:
            pts = 0 if self.last_pts is None else self.last_pts + 1
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1  # strictly increasing, whatever the clock did
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = int(pts)
        frame.time_base = self.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.last_pts = int(pts)
        self.frames += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        finally:
            self.container.close()

    def abandon(self) -> None:
        """Close without raising (after a write error)."""
        try:
            self.close()
        except Exception:
            try:
                self.container.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()


@dataclass
class ClipInfo:
    path: Path
    frames: int  # written to the file
    dropped: int  # offered while the queue was full
    duration: float  # seconds between the first and the last frame written, plus one frame
    error: str | None = None
    codec: str | None = None


_STOP = object()


class Recorder:
    """Live clip recorder: start() -> path; write(frame, t) (never blocks); stop() -> ClipInfo.

    t is the frame's capture time in seconds on any monotonic clock; pts = t - t(first frame).
    """

    def __init__(self, folder: str | Path, fps: float = 30.0, queue_frames: int = 12,
                 codec: str | None = None, on_error: Callable[[str], None] | None = None,
                 prefix: str = "fastvit-fx", copy: bool = True, crf: int = 21,
                 preset: str = "superfast") -> None:
        self.folder = Path(folder).expanduser()
        self.fps = float(fps)
        self.codec = codec
        self.on_error = on_error
        self.prefix = prefix
        self.copy = copy
        self.crf, self.preset = crf, preset
        self._queue: queue.Queue = queue.Queue(maxsize=max(int(queue_frames), 1))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.path: Path | None = None
        self.error: str | None = None
        self.frames = 0
        self.dropped = 0
        self.codec_name: str | None = None
        self._active = False
        self._started_at = 0.0
        self._first_t: float | None = None
        self._last_t: float | None = None

    # -- state --------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._active

    @property
    def elapsed(self) -> float:
        """Seconds since the recording started (wall clock), 0 when idle."""
        return time.monotonic() - self._started_at if self._active else 0.0

    def new_path(self) -> Path:
        return timestamped_path(self.folder, self.prefix, ".mp4")

    # -- control ------------------------------------------------------------------------------
    def start(self) -> Path:
        """Begin a new clip. RecordError (one line naming the folder) if the folder is unusable."""
        if self._active:
            return self.path
        prepare_folder(self.folder)
        self.path = self.new_path()
        try:
            with open(self.path, "wb"):
                pass  # claim the name now; an unwritable folder fails here, not on another thread
        except OSError as exc:
            raise RecordError(f"cannot record to {self.folder}: {_reason(exc)}") from None
        self.error = None
        self.frames = self.dropped = 0
        self._first_t = self._last_t = None
        self._queue = queue.Queue(maxsize=self._queue.maxsize)
        self._active = True
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(self.path, self._queue), name="recorder",
                                        daemon=True)
        self._thread.start()
        return self.path

    def write(self, image: np.ndarray, t: float | None = None) -> bool:
        """Offer a frame; False if not recording or the queue is full (then it counts as dropped)."""
        if not self._active:
            return False
        try:
            self._queue.put_nowait((image.copy() if self.copy else image, time.monotonic() if t is None else t))
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def stop(self, timeout: float = 30.0) -> ClipInfo | None:
        """Finish the clip (flushes what is queued) and return what was written."""
        thread = self._thread
        if thread is None:
            return None
        self._active = False
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                continue
        thread.join(max(deadline - time.monotonic(), 0.1))
        self._thread = None
        return self.info()

    def info(self) -> ClipInfo:
        duration = 0.0
        if self._first_t is not None and self._last_t is not None and self.frames:
            duration = (self._last_t - self._first_t) + 1.0 / self.fps
        return ClipInfo(self.path, self.frames, self.dropped, duration, self.error, self.codec_name)

    # -- the thread ---------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.error = message
        self._active = False
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                pass

    def _open_writer(self, path: Path, image: np.ndarray, t: float, time_base: Fraction) -> ClipWriter:
        """The clip's writer, opened on its first frame (captured at t); a subclass may add sound."""
        return ClipWriter(path, image.shape[1], image.shape[0], fps=self.fps, time_base=time_base,
                          codec=self.codec, crf=self.crf, preset=self.preset)

    def _run(self, path: Path, q: queue.Queue) -> None:
        writer: ClipWriter | None = None
        time_base = Fraction(1, 1000)
        try:
            while True:
                item = q.get()
                if item is _STOP:
                    break
                image, t = item
                try:
                    if writer is None:
                        writer = self._open_writer(path, image, t, time_base)
                        self.codec_name = writer.codec_name
                        self._first_t = t
                    writer.write(image, int(round((t - self._first_t) * 1000)))
                    self._last_t = t
                    self.frames += 1
                except Exception as exc:
                    self._fail(f"recording stopped: cannot write to {self.folder} ({_reason(exc)})")
                    break
            if writer is not None and self.error is None:
                try:
                    writer.close()
                except Exception as exc:
                    self._fail(f"recording stopped: cannot write to {self.folder} ({_reason(exc)})")
        finally:
            if writer is not None and self.error is not None:
                writer.abandon()
            if writer is None:
                try:  # no frame ever came: leave no empty file behind
                    if path.exists() and path.stat().st_size == 0:
                        path.unlink()
                except OSError:
                    pass
            self._active = False
            while True:  # let a blocked stop() through
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
