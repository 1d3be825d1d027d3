"""The live loop, headless: source -> segmenter worker -> effect -> sinks. No Qt here.

    pipeline = Pipeline(DemoSource(), segmenter=Segmenter(smooth=True), effect=preset)
    pipeline.add_sink(lambda out: show(out.image))
    pipeline.start(); ...; pipeline.stop()

Three threads: the source's own (newest frame in a one-slot mailbox), the segmenter worker (takes the
newest frame whenever it is free, so it runs as fast as it can and never queues), and the render
thread, which wakes for every new source frame, renders the active effect with the newest mask and
hands the result to the sinks (the window, the recorder). Rendering therefore runs at the source's
rate whatever the segmenter's speed. `stats()` says how it is doing.

Also here: `render_video`, the offline version (every frame segmented, nothing dropped).
"""
from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .capture import Frame, FrameSource


def limit_torch_threads(share: float = 0.5) -> int:
    """Give the network about `share` of the cores (at least one) and return how many.

    The live pipeline also runs capture, render, encoding and the GUI; on a 2-core machine torch's
    default two threads next to them make each inference wait on a descheduled thread (measured here:
    27 ms with 1 thread, 400-1100 ms with 2 while the cores were busy). FASTVIT_FX_THREADS overrides.
    Call it on the thread that will run the network (OpenMP settings can be per thread).
    """
    import torch

    env = os.environ.get("FASTVIT_FX_THREADS")
    n = int(env) if env and env.isdigit() and int(env) > 0 else max(1, int((os.cpu_count() or 2) * share))
    torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def pipeline_threads(enabled: bool = True):
    """limit_torch_threads() for the duration (when torch is in use), then the old setting back."""
    if not enabled or "torch" not in sys.modules:
        yield
        return
    import torch

    old = torch.get_num_threads()
    limit_torch_threads()
    try:
        yield
    finally:
        torch.set_num_threads(old)


@dataclass
class Output:
    """One rendered frame, as the sinks get it. Treat the arrays as read-only."""

    image: np.ndarray  # what to show / record: the effect's result, or the mask debug view
    frame: Frame  # the source frame it was made from (image mirrored when mirror is on)
    mask: np.ndarray | None  # the mask used (mirrored with the frame), None before the first one
    seq: int  # the source frame's sequence number
    effect: str  # the active effect's name
    rendered_at: float  # time.monotonic() when it was ready


class RateMeter:
    """Events per second over a sliding window."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._times: collections.deque = collections.deque()
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            while self._times and now - self._times[0] > self.window:
                self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and now - self._times[0] > self.window:
                self._times.popleft()
            n = len(self._times)
            if n < 2:
                return 0.0
            span = max(now - self._times[0], self._times[-1] - self._times[0])
            return (n - 1) / span if span > 0 else 0.0


def _ema(old: float, new: float, k: float = 0.15) -> float:
    return new if old <= 0 else old + k * (new - old)


class _FunctionRenderer:
    def __init__(self, fn: Callable, name: str) -> None:
        self.fn, self.name = fn, name

    def render(self, frame, mask, t):
        return self.fn(frame, mask, t)

    def reset(self) -> None:
        pass


def make_renderer(effect) -> tuple[object | None, str]:
    """(renderer, name) for: None (show the frame as it is), a renderer (has .render(frame, mask, t)),
    a plain function f(frame, mask, t), or an fx Preset (built into an fx.EffectRenderer)."""
    if effect is None:
        return None, "none"
    if hasattr(effect, "render"):
        return effect, str(getattr(effect, "name", None) or getattr(getattr(effect, "preset", None), "name", None)
                           or type(effect).__name__)
    if callable(effect):
        return _FunctionRenderer(effect, getattr(effect, "__name__", "effect")), getattr(effect, "__name__", "effect")
    from .fx import EffectRenderer

    return EffectRenderer(effect), str(effect.name)


def mask_debug_view(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The mask made visible: person tinted, background dimmed, the 0.5 contour drawn, raw mask inset."""
    dim = cv2.convertScaleAbs(image, alpha=0.35)
    if mask is None:
        return dim
    green = np.empty_like(image)
    green[:] = (60, 220, 90)  # BGR
    tinted = cv2.addWeighted(image, 0.75, green, 0.3, 0)
    weight = np.ascontiguousarray(mask, dtype=np.float32)
    view = cv2.blendLinear(dim, tinted, 1.0 - weight, weight)  # uint8 in, uint8 out, per-pixel weights
    h, w = image.shape[:2]
    step = 2 if min(h, w) >= 360 else 1  # the outline from a half-size mask: plenty for a debug line
    small = mask[::step, ::step] if step > 1 else mask
    contours, _ = cv2.findContours((small > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if step > 1:
        contours = [c * step for c in contours]
    cv2.drawContours(view, contours, -1, (255, 255, 255), max(1, w // 640), cv2.LINE_AA)
    iw = max(w // 4, 16)
    ih = max(int(iw * h / w), 9)
    x0, y0 = w - iw - 12, h - ih - 12
    if x0 > 0 and y0 > 0:
        inset = cv2.resize(mask, (iw, ih), interpolation=cv2.INTER_AREA)
        view[y0:y0 + ih, x0:x0 + iw] = cv2.convertScaleAbs(inset, alpha=255)[..., None]
        cv2.rectangle(view, (x0 - 1, y0 - 1), (x0 + iw, y0 + ih), (255, 255, 255), 1)
    return view


class Pipeline:
    """source -> segmenter (own thread, newest frame wins) -> effect (source's rate) -> sinks.

    segmenter: anything callable frame_bgr -> float32 mask, or None. segmenter_factory: a callable
    that builds one, tried on the worker thread (so a slow model load never holds up the picture)
    and retried every retry_s seconds while it fails (weights not trained yet, say). While it loads,
    frames pass through unchanged; if it fails, the effect runs with no mask ("nobody there") and
    `model_status` says why, until a retry succeeds.
    """

    def __init__(self, source: FrameSource, segmenter=None, effect=None, *,
                 segmenter_factory: Callable[[], object] | None = None, retry_s: float = 3.0,
                 mirror: bool = False, truth_masks: bool = False, limit_threads: bool = True) -> None:
        self._source = source
        self.limit_threads = limit_threads  # see limit_torch_threads
        self._torch_threads_before: int | None = None
        self.segmenter = segmenter
        self.segmenter_factory = segmenter_factory
        self.retry_s = retry_s
        self.mirror = mirror
        self.debug = False  # the mask debug view instead of the effect
        self.truth_masks = truth_masks  # use a source's exact masks (demo) when there is no segmenter
        self.model_status: str | None = None if segmenter is not None or segmenter_factory is None else \
            "loading the segmentation model..."
        self.render_error: str | None = None
        self._renderer, self._effect_name = make_renderer(effect)
        self._sinks: list[Callable[[Output], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._mask: tuple[np.ndarray, int, float] | None = None  # (mask, source seq, when)
        self._load_failures = 0
        self.last_output: Output | None = None
        self.ended = threading.Event()  # the source ran out (a file that doesn't loop)
        self._t0 = time.monotonic()
        self._fps = RateMeter(1.0)
        self._seg_rate = RateMeter(2.0)
        self._seg_call_ms = 0.0
        self._render_ms = 0.0
        self._latency_ms = 0.0
        self.frames_out = 0
        self.skipped = 0  # source frames the renderer never saw (it was busy)
        self.masks_made = 0
        self._delivered = threading.Condition()

    # -- configuration (any thread) -------------------------------------------------------------
    @property
    def source(self) -> FrameSource:
        return self._source

    def set_source(self, source: FrameSource, start: bool = True, stop_old: bool = True) -> None:
        """Swap the source (camera fallback, camera switch). Starting it may raise SourceError."""
        old = self._source
        if start and self.running:
            source.start()
        with self._lock:
            self._source = source
            self._mask = None
        if stop_old and old is not source:
            old.stop()
        if self.segmenter is not None and hasattr(self.segmenter, "reset"):
            self.segmenter.reset()

    def set_effect(self, effect, name: str | None = None) -> str:
        renderer, made_name = make_renderer(effect)
        name = name or made_name
        with self._lock:
            self._renderer, self._effect_name = renderer, name
            self.render_error = None
        return name

    @property
    def effect_name(self) -> str:
        return self._effect_name

    def add_sink(self, sink: Callable[[Output], None]) -> None:
        with self._lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: Callable[[Output], None]) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> "Pipeline":
        """Start the source (SourceError if it won't open) and the two worker threads."""
        if self._threads:
            return self
        self._stop.clear()
        self.ended.clear()
        self._source.start()
        self._t0 = time.monotonic()
        self._threads = [threading.Thread(target=self._segment_loop, name="segmenter", daemon=True),
                         threading.Thread(target=self._render_loop, name="render", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, stop_source: bool = True) -> None:
        self._stop.set()
        if stop_source:
            self._source.stop()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5.0)
        self._threads = []
        if self._torch_threads_before is not None:  # leave the process as we found it
            import torch

            torch.set_num_threads(self._torch_threads_before)
            self._torch_threads_before = None
        with self._delivered:
            self._delivered.notify_all()

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_frames(self, count: int, timeout: float = 10.0) -> bool:
        """Block until frames_out >= count (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._delivered:
            while self.frames_out < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return self.frames_out >= count
                self._delivered.wait(min(remaining, 0.2))
        return True

    def wait_masks(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.masks_made < count and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.01)
        return self.masks_made >= count

    # -- the segmenter worker -------------------------------------------------------------------
    def _load_segmenter(self) -> None:
        try:
            self.segmenter = self.segmenter_factory()
            self.model_status = None
        except Exception as exc:
            from .errors import describe

            message = describe(exc)
            self._load_failures += 1
            if message is None:  # a bug, not a missing file: say it, with the traceback (once) on stderr
                if self._load_failures == 1:
                    traceback.print_exc()
                message = f"segmentation model failed to load ({type(exc).__name__}: {exc})"
            self.model_status = message

    def _segment_loop(self) -> None:
        seq, source, next_try, limited = 0, None, 0.0, False
        while not self._stop.is_set():
            if self.segmenter is None:
                if self.segmenter_factory is None or time.monotonic() < next_try:
                    self._stop.wait(0.05)
                    continue
                self._load_segmenter()
                next_try = time.monotonic() + self.retry_s
                continue
            if not limited:
                limited = True
                if self.limit_threads and "torch" in sys.modules:
                    import torch

                    self._torch_threads_before = torch.get_num_threads()
                    limit_torch_threads()  # on this thread, which runs the network
            if source is not self._source:
                source, seq = self._source, 0
            seq_new, frame = source.read(after=seq, timeout=0.2)
            if frame is None:
                if source.state == "ended":
                    self._stop.wait(0.05)
                continue
            seq = seq_new
            t0 = time.perf_counter()
            try:
                mask = self.segmenter(frame.image)
            except Exception as exc:
                self.model_status = f"segmentation failed ({type(exc).__name__}: {exc})"
                traceback.print_exc()
                self._stop.wait(1.0)
                continue
            self._seg_call_ms = _ema(self._seg_call_ms, (time.perf_counter() - t0) * 1000)
            self._seg_rate.tick()
            with self._lock:
                if source is self._source:
                    self._mask = (mask, seq, time.monotonic())
            self.masks_made += 1
            if self.model_status is not None and self.model_status.startswith("segmentation failed"):
                self.model_status = None

    # -- the render loop ------------------------------------------------------------------------
    def _current_mask(self, frame: Frame) -> tuple[np.ndarray | None, int]:
        with self._lock:
            held = self._mask
        h, w = frame.image.shape[:2]
        if held is None:
            if self.truth_masks and self.segmenter is None and frame.truth is not None:
                return frame.truth, 0
            return None, 0
        mask, seq, _ = held
        if mask.shape != (h, w):  # the source changed size since (camera reconnected differently)
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        return mask, seq

    def _maskless(self) -> bool:
        """No mask will come (no segmenter, or the model failed to load): effects run with mask=None,
        which the fx engine reads as "nobody there". While a model loads, frames pass unchanged."""
        if self.segmenter is not None:
            return False
        if self.segmenter_factory is None:
            return True
        status = self.model_status
        return status is not None and not status.startswith("loading")

    def _render_loop(self) -> None:
        seq, source = 0, None
        while not self._stop.is_set():
            if source is not self._source:
                source, seq = self._source, 0
            seq_new, frame = source.read(after=seq, timeout=0.2)
            if frame is None:
                if source.state == "ended" and source is self._source:
                    self.ended.set()
                    self._stop.wait(0.05)
                continue
            if seq:
                self.skipped += max(seq_new - seq - 1, 0)
            seq = seq_new
            self._render_one(frame, seq)

    def _render_one(self, frame: Frame, seq: int) -> None:
        t0 = time.perf_counter()
        image = frame.image
        mask, mask_seq = self._current_mask(frame)
        if self.mirror:
            image = cv2.flip(image, 1)
            mask = cv2.flip(mask, 1) if mask is not None else None
            frame = Frame(image, frame.t, frame.index, None)
        with self._lock:
            renderer, name, sinks = self._renderer, self._effect_name, list(self._sinks)
        if self.debug:
            out = mask_debug_view(image, mask)
        elif renderer is not None and (mask is not None or self._maskless()):
            try:
                out = renderer.render(image, mask, frame.t - self._t0)
            except Exception as exc:
                if self.render_error is None:
                    traceback.print_exc()
                self.render_error = f"effect {name!r} failed ({type(exc).__name__}: {exc})"
                out = image
        else:
            out = image
        now = time.monotonic()
        self._render_ms = _ema(self._render_ms, (time.perf_counter() - t0) * 1000)
        self._latency_ms = _ema(self._latency_ms, (now - frame.t) * 1000)
        output = Output(out, frame, mask, seq, name, now)
        self.last_output = output
        for sink in sinks:
            try:
                sink(output)
            except Exception:
                traceback.print_exc()
        self._fps.tick(now)
        with self._delivered:
            self.frames_out += 1
            self._delivered.notify_all()

    # -- numbers --------------------------------------------------------------------------------
    def stats(self) -> dict:
        seg = self.segmenter
        with self._lock:
            held = self._mask
        return {
            "fps": self._fps.rate(),
            "seg_fps": self._seg_rate.rate(),
            "seg_ms": float(getattr(seg, "last_ms", 0.0) or 0.0),  # the network alone
            "seg_call_ms": self._seg_call_ms,  # resize + network + edge refinement
            "render_ms": self._render_ms,
            "latency_ms": self._latency_ms,  # capture -> rendered
            "frames": self.frames_out,
            "skipped": self.skipped,
            "masks": self.masks_made,
            "mask_age": (self.last_output.seq - held[1]) if held and self.last_output else None,
            "backend": getattr(seg, "backend_name", None),
            "zoomed": getattr(seg, "last_region", None) is not None,  # a closer look at a small person
            "effect": self._effect_name,
        }


# -- offline ------------------------------------------------------------------------------------
@dataclass
class RenderResult:
    path: Path
    frames: int
    fps: float
    size: tuple[int, int]
    seconds: float  # wall time spent
    video_seconds: float
    had_audio: bool
    codec: str

    @property
    def speed(self) -> float:
        """Multiple of real time (2.0: a 10 s clip took 5 s)."""
        return self.video_seconds / self.seconds if self.seconds > 0 else float("inf")


def render_video(input_path: str | Path, out_path: str | Path, effect, segmenter, *,
                 progress: bool = True, codec: str | None = None, overlap: bool = True) -> RenderResult:
    """Apply `effect` to every frame of a video: every frame segmented (smooth the segmenter for
    video), same frame rate and size (odd sizes lose one pixel), audio dropped.

    overlap=True decodes and encodes on helper threads while this one segments and renders, so the
    two cores both work; the output is identical to overlap=False.
    """
    import queue as _queue
    from fractions import Fraction

    from .capture import VideoReader
    from .record import ClipWriter, RecordError

    renderer, _ = make_renderer(effect)
    reader = VideoReader(input_path)
    out_path = Path(out_path)
    if out_path.parent and not out_path.parent.exists():
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordError(f"cannot create {out_path.parent}: {exc.strerror}") from None
    width, height = reader.size
    fps = Fraction(reader.fps)
    if hasattr(segmenter, "reset"):
        segmenter.reset()
    if renderer is not None and hasattr(renderer, "reset"):
        renderer.reset()
    bar = None
    if progress:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=reader.frame_count or None, unit="frame", desc=Path(input_path).name,
                   file=sys.stderr, dynamic_ncols=True)
    started = time.perf_counter()
    count = 0
    try:
        writer = ClipWriter(out_path, width, height, fps=fps, codec=codec)
    except Exception:
        reader.close()
        if bar is not None:
            bar.close()
        raise
    # overlap: decode -> [segment, this thread] -> effect -> encode, each stage on its own thread with
    # a small queue between, in order (the segmenter's smoothing and the effect's simulations need it)
    decoded: _queue.Queue = _queue.Queue(maxsize=4)
    segmented: _queue.Queue = _queue.Queue(maxsize=4)
    rendered: _queue.Queue = _queue.Queue(maxsize=4)
    errors: list[BaseException] = []
    halt = threading.Event()
    done = object()

    def put(q: _queue.Queue, item) -> None:
        while not halt.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except _queue.Full:
                continue

    def take(q: _queue.Queue):
        while not halt.is_set():
            try:
                return q.get(timeout=0.1)
            except _queue.Empty:
                continue
        return done

    def stage(fn) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
                halt.set()
        return run

    def decode() -> None:
        try:
            for image in reader:
                if halt.is_set():
                    return
                put(decoded, image)
        finally:
            put(decoded, done)

    def effect() -> None:
        i = 0
        while True:
            item = take(segmented)
            if item is done:
                put(rendered, done)
                return
            image, mask = item
            put(rendered, renderer.render(image, mask, i / float(fps)) if renderer is not None else image)
            i += 1

    def encode() -> None:
        while True:
            item = take(rendered)
            if item is done:
                return
            writer.write(item)

    threads: list[threading.Thread] = []
    limit = pipeline_threads(overlap)
    limit.__enter__()
    try:
        if overlap:
            threads = [threading.Thread(target=stage(fn), name=f"render-{fn.__name__}", daemon=True)
                       for fn in (decode, effect, encode)]
            for thread in threads:
                thread.start()
            while True:
                image = take(decoded)
                if image is done:
                    break
                put(segmented, (image, segmenter(image) if renderer is not None else None))
                count += 1
                if bar is not None:
                    bar.update(1)
            put(segmented, done)
            threads[-1].join()
            if errors:
                raise errors[0]
        else:
            for image in reader:
                out = image
                if renderer is not None:
                    out = renderer.render(image, segmenter(image), count / float(fps))
                writer.write(out)
                count += 1
                if bar is not None:
                    bar.update(1)
        writer.close()
    except BaseException:
        halt.set()
        for thread in threads:
            thread.join(5.0)
        writer.abandon()
        raise
    finally:
        limit.__exit__(None, None, None)
        halt.set()
        for thread in threads:
            thread.join(5.0)
        reader.close()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    return RenderResult(out_path, count, float(fps), (writer.width, writer.height), seconds,
                        count / float(fps), reader.has_audio, writer.codec_name)
