"""Frame sources: a camera (threaded, reconnects), a video file, the built-in demo, and a synthetic loop.

Every source runs on its own thread and keeps only its newest frame in a one-slot `Mailbox`: a slow
reader skips stale frames, it never queues them. Readers ask for "a frame newer than the one I had"
(`source.read(after=seq)`), so several readers (the segmenter worker, the renderer) share one source.

    with open_source("demo") as source:
        seq, frame = source.read(after=0, timeout=1.0)

Sources report trouble in `source.status_info` (a `SourceStatus`: a kind, one line, since when and
for how long it is worth showing; None when all is well; `source.status` is just its line while it
is current) and their life in `source.state`: "starting", "running", "reconnecting", "ended",
"stopped".
"""
from __future__ import annotations

import enum
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import UserError


log = logging.getLogger("fastvit_fx.io.capture")


class SourceError(UserError):
    """A source that cannot be opened; the message names the camera index or the file."""


class StatusKind(enum.Enum):
    """What a source's status line means to someone watching, so nobody has to parse the words."""

    OK = "ok"  # good news after trouble: a camera is back
    INFO = "info"  # worth a glance: a video ended
    WARNING = "warning"  # frames are missing or stopped: a camera retrying, a video cut short
    FALLBACK = "fallback"  # the source asked for would not open; this one plays instead


# How long each kind is worth showing, in seconds (None: until the source replaces or clears it:
# a camera that is still retrying stays on screen while it retries).
SHOW_SECONDS = {StatusKind.OK: 5.0, StatusKind.INFO: 8.0, StatusKind.WARNING: None, StatusKind.FALLBACK: 10.0}


@dataclass(frozen=True)
class SourceStatus:
    kind: StatusKind
    message: str  # one line naming the camera or file
    since: float  # time.monotonic() when it was reported
    show_s: float | None  # how long a window should show it; None: until replaced or cleared

    def expired(self, now: float | None = None) -> bool:
        if self.show_s is None:
            return False
        return (time.monotonic() if now is None else now) - self.since >= self.show_s


@dataclass
class Frame:
    image: np.ndarray  # HxWx3 uint8 BGR
    t: float  # time.monotonic() when it was captured (for a file: its place on the playback clock)
    index: int  # the source's own frame counter, from 1
    truth: np.ndarray | None = None  # the exact person mask, where the source knows it (demo, tests)


class Mailbox:
    """One slot: `put` replaces whatever is there; readers wait for a sequence number newer than theirs."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item = None
        self._seq = 0
        self._closed = False

    @property
    def seq(self) -> int:
        return self._seq

    def put(self, item) -> int:
        with self._cond:
            self._item = item
            self._seq += 1
            self._cond.notify_all()
            return self._seq

    def get(self, after: int = 0, timeout: float | None = None):
        """(seq, item) for the newest item with seq > after; (after, None) on timeout or when closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._seq <= after and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return after, None
                self._cond.wait(remaining)
            if self._seq <= after:
                return after, None
            return self._seq, self._item

    def peek(self):
        with self._cond:
            return self._seq, self._item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False


class FrameSource:
    """Base: subclasses implement `_open()` (raise SourceError) and `_loop()` (call `self._emit`)."""

    name = "source"
    live = True  # a camera or a simulation of one (False: a file played at its own pace)

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.fps = 30.0
        self.size: tuple[int, int] | None = None  # (width, height) once known
        self.status_info: SourceStatus | None = None
        self.state = "starting"
        self.frames = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> "FrameSource":
        """Open (raising SourceError with a one-line message) and start the thread."""
        if self._thread is not None:
            return self
        self._stop.clear()
        self.mailbox.reopen()
        self._open()
        self.state = "running"
        self._thread = threading.Thread(target=self._run, name=f"source-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self.mailbox.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._close()
        if self.state != "ended":
            self.state = "stopped"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def read(self, after: int = 0, timeout: float | None = None) -> tuple[int, Frame | None]:
        """The newest frame with sequence number > after: (seq, frame), or (after, None) on timeout/end."""
        return self.mailbox.get(after, timeout)

    def latest(self) -> Frame | None:
        return self.mailbox.peek()[1]

    # -- status ---------------------------------------------------------------------------------
    @property
    def status(self) -> str | None:
        """The status line while it is worth showing (see SourceStatus.show_s), else None."""
        info = self.status_info
        return None if info is None or info.expired() else info.message

    def report(self, kind: StatusKind, message: str, show_s: float | None = ...) -> SourceStatus:
        """Set the status (show_s defaults to SHOW_SECONDS[kind]). Whoever shows sources (the window,
        the live session) also prints it on stderr; a source does not, so it is said once."""
        info = SourceStatus(kind, message, time.monotonic(), SHOW_SECONDS[kind] if show_s is ... else show_s)
        self.status_info = info
        return info

    def clear_status(self) -> None:
        self.status_info = None

    def note_fallback(self, reason: str) -> SourceStatus:
        """This source stands in for one that would not open (`reason`: that source's one-line error).
        The window shows it for SHOW_SECONDS[FALLBACK] seconds, then lets it go."""
        shown = "the demo" if isinstance(self, DemoSource) else self.name
        return self.report(StatusKind.FALLBACK, f"{reason} - showing {shown} instead")

    # -- for subclasses -------------------------------------------------------------------------
    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def _loop(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a source thread must never die silently
            self.report(StatusKind.WARNING, f"{self.name}: stopped ({type(exc).__name__}: {_first_line(exc)})")
            self.state = "ended"
        finally:
            if self.state not in ("stopped",) and not self._stop.is_set():
                self.state = "ended"
            self.mailbox.close()

    def _emit(self, image: np.ndarray, t: float | None = None, truth: np.ndarray | None = None) -> None:
        self.frames += 1
        if self.size is None or self.size != (image.shape[1], image.shape[0]):
            self.size = (image.shape[1], image.shape[0])
        self.mailbox.put(Frame(image, time.monotonic() if t is None else t, self.frames, truth))

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True if stopped."""
        return self._stop.wait(max(seconds, 0.0))


class _Pacer:
    """Keeps a loop on a fixed-rate schedule without drifting (skips ahead if it falls behind)."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self.next = time.monotonic()

    def wait(self, stop: threading.Event) -> bool:
        now = time.monotonic()
        if self.next > now:
            if stop.wait(self.next - now):
                return True
        elif now - self.next > self.period:  # fell behind: don't burst to catch up
            self.next = now
        self.next += self.period
        return False


# -- cameras ----------------------------------------------------------------------------------
def quiet_opencv() -> None:
    """OpenCV prints a warning for every camera index it cannot open; silence that."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    os.environ.setdefault("OPENCV_VIDEOIO_DEBUG", "0")
    import cv2

    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:
        pass


def open_opencv_camera(index: int, width: int = 1280, height: int = 720, fps: float = 30.0):
    """A cv2.VideoCapture asking for width x height at fps, MJPG where offered; None if it won't open."""
    quiet_opencv()
    import cv2

    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        cap.release()
        return None
    # MJPG first: most USB cameras give 720p30 only compressed (raw YUYV tops out near 10 fps)
    cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    cap.set(cv2.CAP_PROP_FPS, fps)
    try:
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a backlog (ignored where unsupported)
    except Exception:
        pass
    return cap


class CameraSource(FrameSource):
    """A camera by index. Missing or busy at start: SourceError. Unplugged later: retried in the
    background (status says so) until it returns, then frames flow again.

    `opener(index)` returns a cv2.VideoCapture-like object (isOpened/read/release/get) or None;
    tests pass a fake one.
    """

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720, fps: float = 30.0,
                 opener: Callable[[int], object] | None = None, retry_s: float = 1.0,
                 fail_after: int = 15, first_frame_s: float = 3.0, stall_s: float = 2.0) -> None:
        super().__init__()
        self.index = int(index)
        self.name = f"camera {self.index}"
        self.request = (int(width), int(height), float(fps))
        self._opener = opener or (lambda i: open_opencv_camera(i, width, height, fps))
        self.retry_s = retry_s
        self.fail_after = fail_after  # consecutive failed reads that mean "gone"
        self.stall_s = stall_s  # ... or this long without a frame
        self.first_frame_s = first_frame_s
        self.fps = float(fps)
        self.reconnects = 0
        self._cap = None
        self._first: np.ndarray | None = None

    def _try_open(self, wait_s: float):
        """An opened capture that has delivered a frame, else None."""
        try:
            cap = self._opener(self.index)
        except Exception:
            return None
        if cap is None:
            return None
        if not cap.isOpened():
            cap.release()
            return None
        deadline = time.monotonic() + wait_s
        while True:  # some cameras need a moment before the first frame
            try:
                ok, image = cap.read()
            except Exception:
                ok, image = False, None
            if ok and image is not None:
                self._first = image
                return cap
            if time.monotonic() >= deadline or self._stop.is_set():
                cap.release()
                return None
            time.sleep(0.05)

    def _open(self) -> None:
        cap = self._try_open(self.first_frame_s)
        if cap is None:
            raise SourceError(f"camera {self.index}: not found or busy "
                              "(unplugged, in use by another app, or no permission?)")
        self._cap = cap
        self._note_rate(cap)

    def _note_rate(self, cap) -> None:
        try:
            import cv2

            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0)
        except Exception:
            fps = 0.0
        if 1.0 <= fps <= 240.0:
            self.fps = fps

    def _close(self) -> None:
        if self._cap is not None:
            try:
                self._cap.release()
            except Exception:
                pass
            self._cap = None

    def _loop(self) -> None:
        if self._first is not None:
            self._emit(self._first)
            self._first = None
        misses, last_good = 0, time.monotonic()
        while not self._stop.is_set():
            try:
                ok, image = self._cap.read()
            except Exception:
                ok, image = False, None
            if ok and image is not None:
                misses, last_good = 0, time.monotonic()
                self._emit(image)
                continue
            misses += 1
            # gone: several failed reads in a row, or one that took long (a driver that blocks
            # until its own timeout on an unplugged camera)
            if misses < self.fail_after and time.monotonic() - last_good < self.stall_s:
                time.sleep(0.01)
                continue
            self._reconnect()
            misses, last_good = 0, time.monotonic()

    def _reconnect(self) -> None:
        self._close()
        self.state = "reconnecting"
        self.report(StatusKind.WARNING, f"camera {self.index} disconnected; retrying every {self.retry_s:g} s")
        attempts = 0
        while not self._stop.is_set():
            attempts += 1
            cap = self._try_open(min(self.first_frame_s, 1.0))
            if cap is not None:
                self._cap = cap
                self._note_rate(cap)
                self.reconnects += 1
                self.state = "running"
                self.report(StatusKind.OK, f"camera {self.index} reconnected")
                if self._first is not None:
                    self._emit(self._first)
                    self._first = None
                return
            self.report(StatusKind.WARNING, f"camera {self.index} disconnected; retrying (attempt {attempts})")
            if self._sleep(self.retry_s):
                return


def list_cameras(max_index: int = 10, opener: Callable[[int], object] | None = None) -> list[dict]:
    """The cameras among indices 0..max_index-1 that open and deliver a frame, quietly."""
    quiet_opencv()
    import cv2

    found = []
    for index in range(max_index):
        cap = (opener or (lambda i: cv2.VideoCapture(i)))(index)
        try:
            if cap is None or not cap.isOpened():
                continue
            ok, image = cap.read()
            if not ok or image is None:
                continue
            found.append({
                "index": index,
                "width": int(image.shape[1]),
                "height": int(image.shape[0]),
                "fps": float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
                "backend": _backend_name(cap),
            })
        finally:
            if cap is not None:
                cap.release()
    return found


def _backend_name(cap) -> str:
    try:
        return str(cap.getBackendName())
    except Exception:
        return ""


# -- files ------------------------------------------------------------------------------------
class VideoReader:
    """Decodes a video file with PyAV, frame by frame, as BGR arrays. Raises SourceError naming the
    file when it cannot be read. `fps` is the stream's average rate (a Fraction).

    A file that ends well before the frame count its header promises (cut off while copying or
    recording) decodes quietly in FFmpeg; here it sets `warning` to one line naming the file and the
    frames read against those expected, and passes it to `on_warning` (default: logged as a warning,
    which reaches stderr)."""

    def __init__(self, path: str | Path, on_warning: Callable[[str], None] | None = None) -> None:
        import av

        self.on_warning = on_warning or log.warning
        self.warning: str | None = None
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise SourceError(f"{self.path}: is a folder, not a video")
        try:
            self._container = av.open(str(self.path))
        except Exception as exc:
            raise SourceError(f"{self.path}: not a readable video ({av_reason(exc)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"{self.path}: has no video stream")
        self.stream = self._container.streams.video[0]
        self.stream.thread_type = "AUTO"
        from fractions import Fraction

        rate = self.stream.average_rate or self.stream.guessed_rate or self.stream.base_rate
        self.fps = Fraction(rate) if rate else Fraction(30)
        self.size = (int(self.stream.codec_context.width), int(self.stream.codec_context.height))
        self.has_audio = bool(self._container.streams.audio)
        frames = int(self.stream.frames or 0)
        self.count_is_exact = frames > 0  # from the container's index, not estimated from the duration
        if not frames and self.stream.duration and self.stream.time_base:
            frames = int(round(float(self.stream.duration * self.stream.time_base) * float(self.fps)))
        elif not frames and self._container.duration:
            frames = int(round(self._container.duration / 1_000_000 * float(self.fps)))
        self.frame_count = frames  # an estimate where the container doesn't say (0 = unknown)
        self.decoded = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            for frame in self._container.decode(self.stream):
                self.decoded += 1
                yield frame.to_ndarray(format="bgr24")
        except Exception as exc:
            if self.decoded == 0:
                raise SourceError(f"{self.path}: not a readable video ({av_reason(exc)})") from None
            raise SourceError(f"{self.path}: damaged after frame {self.decoded} ({av_reason(exc)})") from None
        self._check_complete()

    def _check_complete(self) -> None:
        """Warn once when the file ended clearly short of what its header promised."""
        expected = self.frame_count
        if self.warning is not None or expected <= 0:
            return
        # an estimate from the duration can be a frame or two off; an index is exact give or take one
        slack = 1 if self.count_is_exact else max(2, int(expected * 0.02))
        if self.decoded < expected - slack:
            self.warning = (f"{self.path}: ends early: read {self.decoded} of the {expected} frames its header "
                            "promises (cut off or damaged?); the rest is missing")
            self.on_warning(self.warning)

    def close(self) -> None:
        self._container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def av_reason(exc: BaseException) -> str:
    """FFmpeg's reason in words. PyAV's str() carries the AVERROR code as an errno
    ("[Errno 1094995529] Invalid data found when processing input: 'clip.mp4'"): a tag that means
    nothing to a reader, and the file, which the caller names already."""
    try:
        from av.error import FFmpegError
    except ImportError:  # pragma: no cover - PyAV is a dependency
        FFmpegError = ()
    strerror = getattr(exc, "strerror", None)
    if isinstance(exc, FFmpegError) or (isinstance(exc, OSError) and strerror):
        reason = str(strerror or type(exc).__name__).strip()
        return reason[:1].lower() + reason[1:]
    return _first_line(exc)


class VideoFileSource(FrameSource):
    """A video file played at its own frame rate, looping by default (a stand-in for a camera)."""

    live = False

    def __init__(self, path: str | Path, loop: bool = True, realtime: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.name = self.path.name
        self.loop = loop
        self.realtime = realtime
        self._reader: VideoReader | None = None

    def _open(self) -> None:
        self._reader = VideoReader(self.path, on_warning=self._cut_short)
        self.fps = float(self._reader.fps)
        self.size = self._reader.size

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _cut_short(self, message: str) -> None:
        self.report(StatusKind.WARNING, message, show_s=SHOW_SECONDS[StatusKind.INFO])

    def _loop(self) -> None:
        pacer = _Pacer(self.fps)
        while not self._stop.is_set():
            got = 0
            for image in self._reader:
                if self.realtime and pacer.wait(self._stop):
                    return
                if self._stop.is_set():
                    return
                self._emit(image)
                got += 1
            if not self.loop or got == 0:
                self.state = "ended"
                if self._reader.warning is None:
                    self.report(StatusKind.INFO, f"{self.name}: end of video")
                return
            self._reader.close()
            self._reader = VideoReader(self.path, on_warning=lambda message: None)  # said once already


# -- generated --------------------------------------------------------------------------------
class DemoSource(FrameSource):
    """The built-in demo scene (fastvit_fx.io.demo) at a camera's rate: needs no camera at all."""

    def __init__(self, width: int = 1280, height: int = 720, fps: float = 30.0, with_truth: bool = False) -> None:
        super().__init__()
        self.name = "demo"
        self.fps = float(fps)
        self.size = (int(width), int(height))
        self.with_truth = with_truth
        self.scene = None

    def _open(self) -> None:
        from .demo import DemoScene

        if self.scene is None:
            self.scene = DemoScene(*self.size)

    def _loop(self) -> None:
        pacer = _Pacer(self.fps)
        t0 = time.monotonic()
        while not pacer.wait(self._stop):
            now = time.monotonic()
            image, truth = self.scene.render(now - t0, with_mask=self.with_truth)
            self._emit(image, now, truth)


class ArraySource(FrameSource):
    """Cycles through given frames at `fps` (benchmarks and tests: a camera with no camera cost)."""

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0, name: str = "synthetic",
                 truths: list[np.ndarray] | None = None, count: int | None = None) -> None:
        super().__init__()
        if not frames:
            raise ValueError("ArraySource needs at least one frame")
        self.name = name
        self.images = frames
        self.truths = truths
        self.fps = float(fps)
        self.count = count  # stop after this many frames (None: forever)
        self.size = (frames[0].shape[1], frames[0].shape[0])

    def _loop(self) -> None:
        pacer = _Pacer(self.fps)
        i = 0
        while not pacer.wait(self._stop):
            if self.count is not None and i >= self.count:
                self.state = "ended"
                return
            k = i % len(self.images)
            self._emit(self.images[k], truth=self.truths[k] if self.truths else None)
            i += 1


def demo_frames(count: int, width: int = 1280, height: int = 720, fps: float = 30.0,
                with_truth: bool = False) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """`count` consecutive demo frames (and masks), for synthetic sources and test videos."""
    from .demo import DemoScene

    scene = DemoScene(width, height)
    images, truths = [], []
    for i in range(count):
        image, truth = scene.render(i / fps, with_mask=with_truth)
        images.append(image)
        truths.append(truth)
    return images, (truths if with_truth else None)


def open_source(spec: str | int, width: int = 1280, height: int = 720, fps: float = 30.0) -> FrameSource:
    """'demo', a camera index ('0', 2) or a video file path -> an unstarted source.
    Raises SourceError for a file that does not exist (cameras are checked when started)."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec), width, height, fps)
    spec = str(spec)
    if spec.lower() == "demo":
        return DemoSource(width, height, fps)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"{path}: no such file (give a video file, a camera index, or 'demo')")
    return VideoFileSource(path)
