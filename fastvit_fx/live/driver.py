"""The live driver: source -> segmenter worker -> compose -> sinks, on three threads, every frame shown
with its own mask (or one carried to it), never with the newest mask pasted on a newer frame.

    driver = LiveDriver(DemoSource(), segmenter, effect=preset)
    driver.add_sink(lambda out: show(out.image))
    driver.start(); ...; driver.stop()

Threads: the source's own (newest frame in a one-slot mailbox), the segmenter worker (takes the
newest frame whenever it is free, so it never works through a backlog) and the render thread, which
pairs frames with masks and composes them in capture order:

- `MaskMode.OWN`: only the frames the segmenter looked at are shown, each with its own mask; when the
  segmenter is slower than the camera, fewer frames are shown.
- `MaskMode.CARRY`: every frame is shown; one the segmenter skipped gets the mask of the nearest frame
  it did look at, carried along the optical flow between the two (`pairing.py`, `carry.py`).

Either way the display lags the camera by about the segmentation time (`stats().latency_ms`), and a
cut in the source (`cuts.py`) resets the segmenter's tracker and smoother before the next mask, and
no mask is carried across it.
"""
from __future__ import annotations

import collections
import enum
import threading
import time
import traceback
from typing import Callable


from ..io.capture import FrameSource
from .carry import thumbnail
from .compose import View
from .cuts import CutDetector
from .pairing import CarryPairing, Segmented
from .stats import LiveStats, RateMeter, Smoothed
from .step import FrameStep, Output
from .threads import limit_torch_threads, restore_torch_threads


class MaskMode(str, enum.Enum):
    OWN = "own"  # fewer frames when segmentation is slower than the camera, each with its own mask
    CARRY = "carry"  # every frame; skipped ones get a neighbour's mask carried by optical flow


DEFAULT_MASK_MODE = MaskMode.CARRY  # see docs/app.md: measured by `fastvit-fx bench --sections live`


class ModelState(enum.Enum):
    LOADING = "loading"  # the segmenter is being built (frames pass unchanged)
    READY = "ready"
    UNAVAILABLE = "unavailable"  # it could not be built (no weights yet, ...); retried; effects run mask-less
    FAILED = "failed"  # a segmentation call failed; retried
    NONE = "none"  # no segmenter wanted (effects run mask-less, or on a source's exact masks)


class LiveDriver:
    """segmenter: anything callable (frame_bgr, interval_s=None) -> float32 mask, interval_s the seconds
    since the previous frame it was given in this scene (optionally with reset(), last_ms), or None.
    segmenter_factory: builds one on the worker thread (a slow load never holds up the picture),
    retried every retry_s seconds while it fails. truth_masks: with no segmenter, use the source's
    exact masks (the demo's) instead."""

    def __init__(self, source: FrameSource, segmenter=None, effect=None, *,
                 segmenter_factory: Callable[[], object] | None = None, retry_s: float = 3.0,
                 view: View = View(), mask_mode: MaskMode | str = DEFAULT_MASK_MODE, truth_masks: bool = False,
                 limit_threads: bool = True, max_pending_s: float = 1.0) -> None:
        self._source = source
        self.segmenter = segmenter
        self.segmenter_factory = segmenter_factory
        self.retry_s = retry_s
        self.mask_mode = MaskMode(mask_mode)
        self.truth_masks = truth_masks
        self.limit_threads = limit_threads
        self.step = FrameStep(effect, view)
        if segmenter is not None:
            self.model_state, self.model_message = ModelState.READY, None
        elif segmenter_factory is not None:
            self.model_state, self.model_message = ModelState.LOADING, "loading the segmentation model..."
        else:
            self.model_state, self.model_message = ModelState.NONE, None
        self._sinks: list[Callable[[Output], None]] = []
        self._lock = threading.Lock()
        self._results = threading.Condition(self._lock)  # the worker -> render inbox
        self._inbox: collections.deque[Segmented] = collections.deque()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._generation = 0  # bumped when the source is swapped: both threads start over
        self._load_failures = 0
        self._seq = 0  # the newest source frame the render thread took
        self._intake_source: FrameSource | None = None
        self._pairing = CarryPairing(max_pending_s)  # carry mode: frames waiting for masks
        self.last_output: Output | None = None
        self.ended = threading.Event()  # the source ran out (a file that doesn't loop)
        self._delivered = threading.Condition()
        # numbers
        self._fps = RateMeter(1.0)
        self._seg_rate = RateMeter(2.0)
        self._seg_call_ms = Smoothed()
        self._latency_ms = Smoothed()
        self.frames_out = 0
        self.skipped = 0
        self.masks_made = 0
        self.cuts = 0

    # -- configuration (any thread) -------------------------------------------------------------
    @property
    def source(self) -> FrameSource:
        return self._source

    def set_source(self, source: FrameSource, start: bool = True, stop_old: bool = True) -> None:
        """Swap the source (camera fallback, camera switch): a cut. Starting it may raise SourceError."""
        old = self._source
        if start and self.running:
            source.start()
        with self._lock:
            self._source = source
            self._generation += 1
            self._inbox.clear()
        if stop_old and old is not source:
            old.stop()

    def set_effect(self, effect, name: str | None = None) -> str:
        return self.step.set_effect(effect, name)

    @property
    def effect_name(self) -> str:
        return self.step.effect_name

    @property
    def view(self) -> View:
        return self.step.view

    def set_view(self, **changes) -> View:
        return self.step.set_view(**changes)

    @property
    def render_error(self) -> str | None:
        return self.step.error

    def add_sink(self, sink: Callable[[Output], None]) -> None:
        with self._lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: Callable[[Output], None]) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> "LiveDriver":
        """Start the source (SourceError if it won't open) and the two threads."""
        if self._threads:
            return self
        self._stop.clear()
        self.ended.clear()
        self._source.start()
        self._threads = [threading.Thread(target=self._segment_loop, name="segmenter", daemon=True),
                         threading.Thread(target=self._render_loop, name="render", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, stop_source: bool = True) -> None:
        self._stop.set()
        if stop_source:
            self._source.stop()
        with self._results:
            self._results.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5.0)
        self._threads = []
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
            self.model_state, self.model_message = ModelState.READY, None
        except Exception as exc:
            from ..errors import describe

            message = describe(exc)
            self._load_failures += 1
            if message is None:  # a bug, not a missing file: say it, with the traceback (once) on stderr
                if self._load_failures == 1:
                    traceback.print_exc()
                message = f"segmentation model failed to load ({type(exc).__name__}: {exc})"
            self.model_state, self.model_message = ModelState.UNAVAILABLE, message

    def _segment_loop(self) -> None:
        threads_before, next_try = None, 0.0
        seq, generation, scene = 0, -1, 0
        last_t: float | None = None  # capture time of the previous frame segmented in this scene
        cuts = CutDetector()
        try:
            while not self._stop.is_set():
                if self.segmenter is None:
                    if self.segmenter_factory is None or time.monotonic() < next_try:
                        self._stop.wait(0.05)
                        continue
                    self._load_segmenter()
                    next_try = time.monotonic() + self.retry_s
                    continue
                if threads_before is None and self.limit_threads:
                    threads_before = limit_torch_threads() or 0  # on this thread, which runs the network
                with self._lock:
                    source, current = self._source, self._generation
                if current != generation:  # a new source: a cut
                    generation, seq = current, 0
                    cuts.reset()
                    self._reset_segmenter()
                    scene += 1
                    last_t = None
                seq_new, frame = source.read(after=seq, timeout=0.2)
                if frame is None:
                    continue
                seq = seq_new
                thumb = thumbnail(frame.image)
                if cuts.is_cut(thumb):
                    self._reset_segmenter()  # no tracker crop or smoothing from before the cut
                    scene += 1
                    self.cuts += 1
                    last_t = None
                # frames the segmenter skipped (it runs slower than the camera) still count as time
                # passed: the smoothing is per second, so the mask does not lag more on a slow machine
                interval = frame.t - last_t if last_t is not None and frame.t > last_t else None
                last_t = frame.t
                start = time.perf_counter()
                try:
                    mask = self.segmenter(frame.image, interval_s=interval)
                except Exception as exc:
                    self.model_state = ModelState.FAILED
                    self.model_message = f"segmentation failed ({type(exc).__name__}: {exc})"
                    traceback.print_exc()
                    self._stop.wait(1.0)
                    continue
                self._seg_call_ms.add((time.perf_counter() - start) * 1000)
                self._seg_rate.tick()
                if self.model_state is ModelState.FAILED:
                    self.model_state, self.model_message = ModelState.READY, None
                with self._results:
                    if current == self._generation:
                        self._inbox.append(Segmented(seq, frame, mask, thumb, scene, time.monotonic()))
                        self._results.notify_all()
                self.masks_made += 1
        finally:
            if threads_before:
                restore_torch_threads(threads_before)

    def _reset_segmenter(self) -> None:
        reset = getattr(self.segmenter, "reset", None)
        if reset is not None:
            reset()

    # -- the render thread ----------------------------------------------------------------------
    def _masks_coming(self) -> bool:
        """While the segmenter is loading, missing or failing, frames are shown as they come."""
        return self.model_state is ModelState.READY and self.segmenter is not None

    def _render_loop(self) -> None:
        pairing = self._pairing
        pairing.clear()
        source, generation = None, -1
        while not self._stop.is_set():
            with self._lock:
                if self._generation != generation:  # a new source: start over
                    generation, source, self._seq = self._generation, self._source, 0
                    pairing.clear()
            self._intake_source = source
            if not self._masks_coming():  # no segmenter (yet): frames as they come
                pairing.clear()
                seq_new, frame = source.read(after=self._seq, timeout=0.1)
                if frame is None:
                    self._note_end(source)
                    continue
                self._count_skipped(self._seq, seq_new)
                self._seq = seq_new
                truth = frame.truth if self.truth_masks and self.segmenter is None else None
                self._present(self.step(frame, truth, self._seq, mask_seq=self._seq if truth is not None else 0,
                                        run_without_mask=self.model_state is not ModelState.LOADING))
                continue
            if self.mask_mode is MaskMode.CARRY:  # every frame is kept until its mask is known
                self._intake(0.004)
            with self._results:
                if not self._inbox and self.mask_mode is MaskMode.OWN:
                    self._results.wait(0.1)
                arrived, self._inbox = list(self._inbox), collections.deque()
            if self.mask_mode is MaskMode.OWN:  # each mask shown on its own frame, as it comes
                for item in arrived:
                    self._count_skipped(self._seq, item.seq)
                    self._seq = item.seq
                    self._present(self.step(item.frame, item.mask, item.seq, mask_seq=item.seq))
                self._note_end(source)
                continue
            for item in arrived:
                pairing.add_mask(item)
            self._show_due(pairing)

    def _intake(self, timeout: float) -> None:
        """Keep every new source frame (carry mode); also called while waiting to show a frame."""
        source = self._intake_source
        seq_new, frame = source.read(after=self._seq, timeout=timeout)
        if frame is None:
            self._note_end(source)
            return
        self._count_skipped(self._seq, seq_new)
        self._seq = seq_new
        self._pairing.add_frame(seq_new, frame)

    def _wait_until(self, when: float) -> None:
        while not self._stop.is_set():
            remaining = when - time.monotonic()
            if remaining <= 0:
                return
            self._intake(min(remaining, 0.05))

    def _show_due(self, pairing: CarryPairing) -> None:
        """Compose the frames whose time has come, paced as evenly as they were captured, `lag`
        behind the camera; when the render thread is late, newer frames win."""
        lag = pairing.lag_s
        ready = pairing.due(time.monotonic())
        for i, (seq, frame) in enumerate(ready):
            if i + 1 < len(ready) and time.monotonic() > ready[i + 1][1].t + lag:
                pairing.skip(seq)
                self.skipped += 1
                continue
            paired = pairing.pair(seq, frame)
            if paired is None:
                continue
            output = self.step(frame, paired.mask, seq, mask_seq=paired.mask_seq, carried=paired.carried)
            self._wait_until(frame.t + lag)
            self._present(output)

    # -- helpers --------------------------------------------------------------------------------
    def _count_skipped(self, seq: int, seq_new: int) -> None:
        if seq:
            self.skipped += max(seq_new - seq - 1, 0)

    def _note_end(self, source: FrameSource) -> None:
        if source is not None and source.state == "ended" and source is self._source:
            self.ended.set()
            self._stop.wait(0.05)

    def _present(self, output: Output) -> None:
        with self._lock:
            sinks = list(self._sinks)
        self._latency_ms.add((output.rendered_at - output.frame.t) * 1000)
        self.last_output = output
        for sink in sinks:
            try:
                sink(output)
            except Exception:
                traceback.print_exc()
        self._fps.tick(output.rendered_at)
        with self._delivered:
            self.frames_out += 1
            self._delivered.notify_all()

    # -- numbers --------------------------------------------------------------------------------
    def stats(self) -> LiveStats:
        seg = self.segmenter
        return LiveStats(
            fps=self._fps.rate(),
            seg_fps=self._seg_rate.rate(),
            seg_ms=float(getattr(seg, "last_ms", 0.0) or 0.0),
            seg_call_ms=self._seg_call_ms.value,
            render_ms=self.step.compose_ms.value,
            carry_ms=self._pairing.carry_ms.value,
            latency_ms=self._latency_ms.value,
            frames=self.frames_out,
            skipped=self.skipped + self._pairing.dropped,
            masks=self.masks_made,
            carried=self._pairing.carried,
            cuts=self.cuts,
            backend=getattr(seg, "backend_name", None),
            zoomed=getattr(seg, "last_region", None) is not None,
            input_size=int(getattr(seg, "last_size", 0) or 0),
            effect=self.step.effect_name,
            mask_mode=self.mask_mode.value,
        )
