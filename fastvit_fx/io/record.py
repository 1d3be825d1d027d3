"""Clip recording: H.264 in a fragmented MP4, written on its own thread.

`ClipWriter` is the plain synchronous writer (also used by offline render): PyAV, libx264 with a
fallback to other encoders, MP4 with `frag_keyframe+empty_moov+default_base_moof` so that every
finished fragment (one a second) is playable on its own: a crash or kill mid-clip leaves a file
that plays up to the last second or so.

`Recorder` is the live one: `write(frame, t)` never blocks (a bounded queue; a full queue drops the
frame and counts it), timestamps are the frames' real capture times so playback speed matches
reality, clips are named by date and time. A full disk or an unwritable folder stops the recording
with a one-line message naming the folder (`recorder.error`, `on_error`), never the app.

Quality is constant (x264's CRF, `crf`, default DEFAULT_CRF: about 1-2 Mbit/s for 720p webcam
content), not a bitrate. Speed is chosen to keep the clip at the camera's rate on a busy machine:
before the first frame, `EncoderSpeed` times libx264 on that frame and takes the best-compressing
preset that encodes well within a frame's time; a clip whose encoder still fell behind makes the
next one start a step faster. `recorder.health()` gives the HUD the counts (written, dropped in the
queue, missing upstream), the clip's recent frame rate, and a one-line warning while it runs below
the camera's rate.
"""
from __future__ import annotations

import collections
import datetime as _dt
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserError

ENCODERS = ("libx264", "h264", "libopenh264", "mpeg4")
DEFAULT_CRF = 23  # x264's own default: webcam 720p at about 1-2 Mbit/s, no visible loss in motion
# libx264 presets tried, best compression first; each step is roughly 1.3-2x faster than the last
X264_SPEEDS = ("veryfast", "superfast", "ultrafast")
ENCODE_SHARE = 0.6  # of a frame's time the encoder may take, leaving headroom for a burst of load
BELOW_RATE = 0.9  # a clip under this share of the camera's rate is "below the camera's rate"
RATE_WINDOW_S = 2.0  # the clip's recent rate is measured over this much capture time
FRAGMENTED_MP4 = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "flush_packets": "1",  # each fragment goes to the OS as soon as it is complete
}


class RecordError(UserError):
    """Recording cannot start or had to stop; the message names the folder or file."""


def check_crf(crf) -> int:
    """x264's CRF scale: 0 (lossless) .. 51 (worst); about 18-28 is useful. RecordError otherwise."""
    if isinstance(crf, bool) or not isinstance(crf, (int, float)) or crf != int(crf) or not 0 <= crf <= 51:
        raise RecordError(f"crf: expected a whole number 0-51 (lower: better and bigger; default {DEFAULT_CRF}), "
                          f"got {crf!r}")
    return int(crf)


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
                 time_base: Fraction | None = None, codec: str | None = None, crf: int = DEFAULT_CRF,
                 preset: str = X264_SPEEDS[0], gop_seconds: float = 1.0) -> None:
        import av

        crf = check_crf(crf)
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
                self.settings = f"{name} {preset} crf {crf}" if name == "libx264" else name
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
        if name == "mpeg4":  # a fallback without CRF: a bitrate cap that looks fine at any size
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


def time_encode(image: np.ndarray, preset: str, crf: int = DEFAULT_CRF, frames: int = 6,
                fps: float = 30.0) -> float:
    """Seconds libx264 takes per frame for `image` (moving, so it is not one repeated picture) with
    `preset`, as the recorder would run it, on this machine under its load right now."""
    import av

    h, w = image.shape[0] & ~1, image.shape[1] & ~1
    image = np.ascontiguousarray(image[:h, :w])
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = w, h, "yuv420p"
    ctx.time_base = Fraction(1, 1000)
    ctx.framerate = Fraction(fps).limit_denominator(1000)
    ctx.options = {"preset": preset, "crf": str(crf), "tune": "zerolatency"}
    ctx.open()
    step = max(w // 100, 2)
    moving = [av.VideoFrame.from_ndarray(np.roll(image, i * step, axis=1), format="bgr24") for i in range(frames + 1)]
    for i, frame in enumerate(moving):
        frame.pts = int(i * 1000 / fps)
    ctx.encode(moving[0])  # the first frame is a keyframe plus set-up: not what a steady clip costs
    started = time.perf_counter()
    for frame in moving[1:]:
        ctx.encode(frame)
    spent = (time.perf_counter() - started) / frames
    try:
        ctx.encode(None)
    except Exception:
        pass
    return spent


class EncoderSpeed:
    """Chooses the libx264 preset for a clip: the best-compressing one in X264_SPEEDS whose measured
    time per frame fits ENCODE_SHARE of the frame period. A clip whose encoder still fell behind
    (the machine got busier) makes later clips start from the next faster preset.

    One instance is shared by every Recorder of the process (the app makes one per clip), so what
    a clip learnt carries to the next."""

    def __init__(self, speeds: tuple[str, ...] = X264_SPEEDS, share: float = ENCODE_SHARE) -> None:
        self.speeds = speeds
        self.share = share
        self.floor = 0  # index of the slowest preset still worth trying
        self.timings: dict[str, float] = {}  # the last measurement, seconds per frame, for reports

    def budget(self, fps: float) -> float:
        return self.share / max(fps, 1.0)

    def choose(self, image: np.ndarray, fps: float, crf: int = DEFAULT_CRF) -> str:
        budget = self.budget(fps)
        self.timings = {}
        for preset in self.speeds[self.floor:]:
            self.timings[preset] = time_encode(image, preset, crf, fps=fps)
            if self.timings[preset] <= budget:
                return preset
        return self.speeds[-1]

    def note_clip(self, preset: str, seconds_per_frame: float, fps: float) -> None:
        """After a clip: if its encoder took more than a frame's time on average, later clips start a
        step faster; if it had room to spare (under half its budget), they may try a step slower
        again (each clip still measures before it picks)."""
        if preset not in self.speeds:
            return
        index = self.speeds.index(preset)
        if seconds_per_frame > 1.0 / max(fps, 1.0):
            self.floor = max(self.floor, min(index + 1, len(self.speeds) - 1))
        elif seconds_per_frame < 0.5 * self.budget(fps):
            self.floor = min(self.floor, max(index - 1, 0))


SHARED_SPEED = EncoderSpeed()


@dataclass
class ClipInfo:
    path: Path
    frames: int  # written to the file
    dropped: int  # offered while the queue was full
    duration: float  # seconds between the first and the last frame written, plus one frame
    error: str | None = None
    codec: str | None = None
    missed: int = 0  # frames the camera's rate implies between written ones that never arrived
    encoder: str | None = None  # e.g. "libx264 veryfast crf 23"
    slowest_fps: float | None = None  # the lowest recent rate seen while recording
    below_rate: bool = False  # it ran below the camera's rate at some point


@dataclass(frozen=True)
class RecordHealth:
    """What the HUD shows while recording: is the clip keeping the camera's rate, and if not, why."""

    frames: int  # written
    dropped: int  # refused because the encoder was behind (queue full)
    missed: int  # never offered: gaps in the frames' capture times (the app itself was behind)
    fps: float | None  # the clip's rate over the last RATE_WINDOW_S of capture time (None: too early)
    target_fps: float  # the camera's rate
    encode_ms: float  # the encoder's recent time per frame
    encoder: str | None  # e.g. "libx264 superfast crf 23"
    below_rate: bool  # fps < BELOW_RATE * target_fps right now

    @property
    def warning(self) -> str | None:
        """One line for the HUD while the clip runs below the camera's rate, else None."""
        if not self.below_rate or self.fps is None:
            return None
        causes = []
        if self.dropped:
            causes.append(f"{self.dropped} dropped by the encoder")
        if self.missed:
            causes.append(f"{self.missed} never reached the recorder")
        why = f" ({', '.join(causes)})" if causes else ""
        return (f"recording at {self.fps:.0f} fps, below the camera's {self.target_fps:.0f}: the machine is busy"
                f"{why}")


_STOP = object()


class Recorder:
    """Live clip recorder: start() -> path; write(frame, t) (never blocks); stop() -> ClipInfo.

    t is the frame's capture time in seconds on any monotonic clock; pts = t - t(first frame).
    `fps` is the camera's rate: the one the clip should keep. `crf`: constant quality (lower is
    better and bigger). `speed`: who picks the libx264 preset (default: shared by the process);
    `preset` fixes one instead.
    """

    def __init__(self, folder: str | Path, fps: float = 30.0, queue_frames: int = 12,
                 codec: str | None = None, on_error: Callable[[str], None] | None = None,
                 prefix: str = "fastvit-fx", copy: bool = True, crf: int = DEFAULT_CRF,
                 preset: str | None = None, speed: EncoderSpeed | None = None) -> None:
        self.folder = Path(folder).expanduser()
        self.fps = float(fps)
        self.codec = codec
        self.on_error = on_error
        self.prefix = prefix
        self.copy = copy
        self.crf = check_crf(crf)
        self.fixed_preset = preset
        self.speed = speed or SHARED_SPEED
        self._queue: queue.Queue = queue.Queue(maxsize=max(int(queue_frames), 1))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.path: Path | None = None
        self.error: str | None = None
        self.codec_name: str | None = None
        self.encoder: str | None = None
        self._active = False
        self._started_at = 0.0
        self._reset_counts()

    def _reset_counts(self) -> None:
        self.frames = 0
        self.dropped = 0
        self.missed = 0
        self.preset: str | None = None
        self.encode_ms = 0.0
        self._encode_total_s = 0.0
        self._recent: collections.deque[float] = collections.deque()  # capture times, last RATE_WINDOW_S
        self._slowest_fps: float | None = None
        self._was_below = False
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

    def recent_fps(self) -> float | None:
        """Frames written per second of capture time over the last RATE_WINDOW_S (None until it has
        seen most of one)."""
        with self._lock:  # the recorder thread appends while the HUD reads
            times = list(self._recent)
        if len(times) < 2 or times[-1] - times[0] < 0.75 * RATE_WINDOW_S:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    def health(self) -> RecordHealth:
        fps = self.recent_fps()
        below = fps is not None and fps < BELOW_RATE * self.fps
        return RecordHealth(self.frames, self.dropped, self.missed, fps, self.fps, self.encode_ms, self.encoder, below)

    @property
    def below_rate(self) -> bool:
        return self.health().below_rate

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
        self.encoder = None
        self._reset_counts()
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
        return ClipInfo(self.path, self.frames, self.dropped, duration, self.error, self.codec_name,
                        self.missed, self.encoder, self._slowest_fps, self._was_below)

    # -- the thread ---------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.error = message
        self._active = False
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                pass

    def _choose_preset(self, image: np.ndarray) -> str:
        if self.fixed_preset is not None:
            return self.fixed_preset
        candidates = [self.codec] if self.codec else available_encoders()
        if not candidates or candidates[0] != "libx264":
            return X264_SPEEDS[0]  # other encoders have no presets to choose from
        try:
            return self.speed.choose(image, self.fps, self.crf)
        except Exception:  # measuring must never cost the clip: the fastest is always safe
            return X264_SPEEDS[-1]

    def _count(self, t: float, encode_s: float) -> None:
        """After a frame is written: gaps in capture time, the recent rate, the encoder's time."""
        period = 1.0 / self.fps
        if self._last_t is not None:
            gap = t - self._last_t
            if gap > 1.5 * period:  # frames the camera made in between that never came
                self.missed += max(int(round(gap / period)) - 1, 0)
        self._last_t = t
        self.frames += 1
        self._encode_total_s += encode_s
        self.encode_ms = encode_s * 1000 if self.frames == 1 else 0.9 * self.encode_ms + 100 * encode_s
        with self._lock:
            self._recent.append(t)
            while self._recent and t - self._recent[0] > RATE_WINDOW_S:
                self._recent.popleft()
        fps = self.recent_fps()
        if fps is not None:
            self._slowest_fps = fps if self._slowest_fps is None else min(self._slowest_fps, fps)
            self._was_below = self._was_below or fps < BELOW_RATE * self.fps

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
                        self.preset = self._choose_preset(image)
                        writer = self._open_writer(path, image, t, time_base)
                        self.codec_name = writer.codec_name
                        self.encoder = writer.settings
                        self._first_t = t
                    started = time.perf_counter()
                    writer.write(image, int(round((t - self._first_t) * 1000)))
                    self._count(t, time.perf_counter() - started)
                except Exception as exc:
                    self._fail(f"recording stopped: cannot write to {self.folder} ({_reason(exc)})")
                    break
            if writer is not None and self.error is None:
                try:
                    writer.close()
                except Exception as exc:
                    self._fail(f"recording stopped: cannot write to {self.folder} ({_reason(exc)})")
            if writer is not None and self.frames and writer.codec_name == "libx264" and self.fixed_preset is None:
                self.speed.note_clip(self.preset, self._encode_total_s / self.frames, self.fps)
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
