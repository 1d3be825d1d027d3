"""The offline driver: every frame, in order, each with its own mask, through the same `FrameStep` the
live driver uses (so `render` writes what the window would show for the same frames and masks).

    for out in compose_frames(frames, segmenter, effect, fps=30): ...
    render_video("in.mp4", "out.mp4", effect, segmenter)        # decode -> segment -> compose -> encode
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..io.capture import Frame
from .compose import View
from .step import FrameStep, Output
from .threads import capped_network_threads

_END = object()


def compose_frames(frames: Iterable[np.ndarray], masks: Iterable[np.ndarray] | Callable[[np.ndarray], np.ndarray],
                   effect, fps: float = 30.0, view: View = View()) -> Iterator[Output]:
    """One Output per frame, frame i at t = i / fps. masks: an iterable aligned with frames, or a
    callable frame -> mask (a Segmenter: reset first, so a clip never inherits another's smoothing)."""
    step = FrameStep(effect, view, strict=True)
    step.reset()
    segment = masks if callable(masks) else None
    if segment is not None and hasattr(segment, "reset"):
        segment.reset()
    mask_iter = None if segment else iter(masks)
    for i, image in enumerate(frames):
        if segment is not None:
            mask = segment(image)
        else:
            mask = next(mask_iter, _END)
            if mask is _END:
                raise ValueError(f"masks ran out at frame {i}")
        yield step(Frame(image, i / fps, i + 1), mask, i + 1, mask_seq=i + 1)


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


class _Stages:
    """Small bounded queues between threads, with one stop flag and the first error kept."""

    DONE = object()

    def __init__(self) -> None:
        self.halt = threading.Event()
        self.errors: list[BaseException] = []

    def put(self, q: queue.Queue, item) -> None:
        while not self.halt.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def take(self, q: queue.Queue):
        while not self.halt.is_set():
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                continue
        return self.DONE

    def thread(self, fn: Callable[[], None], name: str) -> threading.Thread:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                self.errors.append(exc)
                self.halt.set()
        return threading.Thread(target=run, name=name, daemon=True)


def render_video(input_path: str | Path, out_path: str | Path, effect, segmenter, *,
                 progress: bool = True, codec: str | None = None, overlap: bool = True) -> RenderResult:
    """Apply `effect` to every frame of a video: every frame segmented (smooth the segmenter for
    video), same frame rate and size (odd sizes lose one pixel), audio dropped.

    overlap=True decodes, composes and encodes on helper threads while this one segments, so both
    cores work; the output is identical to overlap=False.
    """
    from ..io.capture import VideoReader
    from ..io.record import ClipWriter, RecordError

    step = FrameStep(effect, strict=True)
    reader = VideoReader(input_path)
    out_path = Path(out_path)
    if out_path.parent and not out_path.parent.exists():
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reader.close()
            raise RecordError(f"cannot create {out_path.parent}: {exc.strerror}") from None
    width, height = reader.size
    fps = Fraction(reader.fps)
    if hasattr(segmenter, "reset"):
        segmenter.reset()
    step.reset()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=reader.frame_count or None, unit="frame", desc=Path(input_path).name,
                   file=sys.stderr, dynamic_ncols=True)
    started = time.perf_counter()
    try:
        writer = ClipWriter(out_path, width, height, fps=fps, codec=codec)
    except Exception:
        reader.close()
        if bar is not None:
            bar.close()
        raise
    needs_mask = step.effect_name != "none"
    interval = 1.0 / float(fps)  # the smoother blends per second: a clip at a few frames a second is barely blended

    def compose_one(i: int, image: np.ndarray, mask) -> np.ndarray:
        return step(Frame(image, i / float(fps), i + 1), mask, i + 1, mask_seq=i + 1).image

    stages = _Stages()
    decoded: queue.Queue = queue.Queue(maxsize=4)
    segmented: queue.Queue = queue.Queue(maxsize=4)
    composed: queue.Queue = queue.Queue(maxsize=4)

    def decode() -> None:
        try:
            for image in reader:
                if stages.halt.is_set():
                    return
                stages.put(decoded, image)
        finally:
            stages.put(decoded, stages.DONE)

    def compose_stage() -> None:
        i = 0
        while True:
            item = stages.take(segmented)
            if item is stages.DONE:
                stages.put(composed, stages.DONE)
                return
            stages.put(composed, compose_one(i, *item))
            i += 1

    def encode() -> None:
        while True:
            item = stages.take(composed)
            if item is stages.DONE:
                return
            writer.write(item)

    count = 0
    threads: list[threading.Thread] = []
    try:
        with capped_network_threads(overlap):
            if overlap:
                threads = [stages.thread(fn, f"render-{name}") for fn, name in
                           ((decode, "decode"), (compose_stage, "compose"), (encode, "encode"))]
                for thread in threads:
                    thread.start()
                while True:
                    image = stages.take(decoded)
                    if image is stages.DONE:
                        break
                    stages.put(segmented, (image, segmenter(image, interval_s=interval) if needs_mask else None))
                    count += 1
                    if bar is not None:
                        bar.update(1)
                stages.put(segmented, stages.DONE)
                threads[-1].join()
                if stages.errors:
                    raise stages.errors[0]
            else:
                for image in reader:
                    writer.write(compose_one(count, image, segmenter(image, interval_s=interval) if needs_mask else None))
                    count += 1
                    if bar is not None:
                        bar.update(1)
        writer.close()
    except BaseException:
        stages.halt.set()
        for thread in threads:
            thread.join(5.0)
        writer.abandon()
        raise
    finally:
        stages.halt.set()
        for thread in threads:
            thread.join(5.0)
        reader.close()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    return RenderResult(out_path, count, float(fps), (writer.width, writer.height), seconds,
                        count / float(fps), reader.has_audio, writer.codec_name)
