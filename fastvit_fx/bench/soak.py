"""Soak check: the live path left running with physics and recording on, watched for memory growth
and crashes. `fastvit-fx bench --sections soak --minutes N` calls `run_soak(minutes=N)`.

It plays the demo at a camera's rate through the live driver with a physics preset (snow, then
bounce, switching at every new clip), records clips the whole time (a new clip every `clip_s`
seconds, each deleted once finished, so start/stop is exercised too), and samples the process's
resident memory. RSS is measured from the end of a warm-up (caches, encoder buffers and the first
simulation state are allocated by then) and at each end as the floor of a fifth of the samples (a
clip starting lifts it for a moment; a leak lifts the floor), so `rss_growth_mb` is what a long
session would keep adding; `rss_growth_median_mb` compares the two fifths' medians, a check on the
floor (`memory_trend`). Crashes are exceptions counted where they happen (effect, segmenter, recorder) plus
stretches where no frame came out.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, NamedTuple

import numpy as np


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux: /proc; elsewhere the peak, the best the
    standard library offers)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError, AttributeError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes on macOS, KiB elsewhere


@dataclass
class SoakReport:
    minutes: float
    effects: list[str]
    frames: int  # rendered by the live driver
    fps: float
    target_fps: float
    rss_start_mb: float  # after the warm-up: the lowest of the first fifth of the samples
    rss_end_mb: float  # the lowest of the last fifth
    rss_growth_mb: float
    rss_peak_mb: float
    crashes: int  # exceptions counted (effect, segmenter, recorder) + stalls
    stalls: int  # sampling intervals after the warm-up with no new frame
    clips: int
    rec_frames: int
    rec_dropped: int  # refused by a full recorder queue (the encoder was behind)
    rec_missed: int  # frames the camera rate implies that never reached the recorder
    rss_growth_median_mb: float = float("nan")  # last fifth's median less the first fifth's
    encoders: list[str] = field(default_factory=list)  # e.g. "libx264 veryfast crf 23", one per clip kind
    errors: list[str] = field(default_factory=list)  # distinct one-line reasons, first few
    samples: list[tuple[float, int, float]] = field(default_factory=list)  # (seconds, frames, RSS MB)

    def summary(self) -> str:
        return (f"soak {self.minutes:g} min ({', '.join(self.effects)}, recording): {self.frames} frames at "
                f"{self.fps:.1f} fps (camera {self.target_fps:g}); "
                f"RSS {self.rss_start_mb:.0f} -> {self.rss_end_mb:.0f} MB "
                f"({self.rss_growth_mb:+.1f} MB; medians {self.rss_growth_median_mb:+.1f} MB; peak "
                f"{self.rss_peak_mb:.0f}); {self.crashes} crashes; "
                f"{self.clips} clips, {self.rec_frames} frames recorded, {self.rec_dropped} dropped, "
                f"{self.rec_missed} missed")

    def row(self) -> dict:
        """Flat numbers for `fastvit-fx bench` tables and JSON (samples left out)."""
        out = asdict(self)
        out.pop("samples")
        out["effects"] = ", ".join(self.effects)
        out["encoders"] = ", ".join(self.encoders)
        out["errors"] = "; ".join(self.errors)
        return out


class MemoryTrend(NamedTuple):
    start_mb: float  # the floor of the first fifth of the samples after the warm-up
    end_mb: float  # the floor of the last fifth
    growth_mb: float
    median_growth_mb: float  # the last fifth's median less the first fifth's


def memory_trend(samples: list[tuple[float, int, float]], warmup_s: float) -> MemoryTrend:
    """RSS at each end of a soak from (seconds, frames, RSS MB) samples taken after `warmup_s` (all of
    them where none are). A clip starting or a burst of particles lifts RSS for a moment, so each end
    is the floor of a fifth of the run (a leak lifts the floor); the medians are a second reading
    that a few low samples cannot pull down."""
    steady = [x[2] for x in samples if x[0] >= warmup_s] or [x[2] for x in samples]
    edge = max(len(steady) // 5, 1)
    head, tail = steady[:edge], steady[-edge:]
    start, end = min(head), min(tail)
    return MemoryTrend(start, end, round(end - start, 1), round(float(np.median(tail) - np.median(head)), 1))


class Live(NamedTuple):
    """What the soak does with the live path; `open_live` is the one place that knows which driver
    that is."""

    start: Callable[[], None]
    stop: Callable[[], None]
    frames: Callable[[], int]
    set_effect: Callable[[object], None]
    add_sink: Callable[[Callable], None]  # sink(image_bgr, capture_time)
    error: Callable[[], str | None]


def open_live(source, renderer, segmenter=None) -> Live:
    """The app's live driver on `source` with `renderer`; segmenter None: the demo's exact masks."""
    from ..live import LiveDriver

    driver = LiveDriver(source, segmenter, effect=renderer, truth_masks=segmenter is None)
    return Live(start=driver.start, stop=driver.stop, frames=lambda: driver.frames_out,
                set_effect=driver.set_effect,
                add_sink=lambda sink: driver.add_sink(lambda out: sink(out.image, out.frame.t)),
                error=lambda: driver.render_error)


class _Counting:
    """Wraps a renderer or segmenter: counts and remembers its exceptions, then re-raises them so
    the live driver handles them exactly as it would have."""

    def __init__(self, inner, errors: list[str], label: str) -> None:
        self.inner, self.errors, self.label = inner, errors, label
        self.count = 0

    def _failed(self, exc: BaseException) -> None:
        self.count += 1
        if len(self.errors) < 5:
            self.errors.append(f"{self.label}: {type(exc).__name__}: {exc}")

    def render(self, *args, **kwargs):
        try:
            return self.inner.render(*args, **kwargs)
        except Exception as exc:
            self._failed(exc)
            raise

    def __call__(self, *args, **kwargs):
        try:
            return self.inner(*args, **kwargs)
        except Exception as exc:
            self._failed(exc)
            raise

    def __getattr__(self, name):  # reset(), backend_name, ...: the wrapped object's own
        return getattr(self.inner, name)


def run_soak(minutes: float = 0.5, effects: tuple[str, ...] = ("snow", "bounce"), size: tuple[int, int] = (1280, 720),
             fps: float = 30.0, clip_s: float = 60.0, sample_s: float = 2.0, warmup_s: float | None = None,
             segmenter=None, folder: str | None = None, progress: Callable[[str], None] | None = None) -> SoakReport:
    """Run the live path for `minutes` with `effects` (physics presets) and recording on; see the module
    docstring. `segmenter`: a Segmenter (the real network) or None for the demo's exact masks.
    `folder`: where clips go while they are written (default: a temporary folder, removed after)."""
    from ..io.capture import DemoSource
    from ..fx import EffectRenderer, load_presets
    from ..io.record import Recorder

    library = load_presets()
    presets = [library.get(name) for name in effects]  # a broken or unknown preset: PresetError, one line
    errors: list[str] = []
    renderers = [_Counting(EffectRenderer(p), errors, f"effect {p.name}") for p in presets]
    counted_segmenter = _Counting(segmenter, errors, "segmenter") if segmenter is not None else None
    source = DemoSource(size[0], size[1], fps=fps, with_truth=segmenter is None)
    live = open_live(source, renderers[0], counted_segmenter)
    duration = max(minutes * 60.0, 1.0)
    warmup = min(duration / 5, 10.0) if warmup_s is None else warmup_s
    rec_errors: list[str] = []
    current: dict = {"recorder": None}
    lock = threading.Lock()

    def sink(image, t) -> None:
        with lock:
            recorder = current["recorder"]
        if recorder is not None:
            recorder.write(image, t)

    clips = rec_frames = rec_dropped = rec_missed = stalls = 0
    encoders: list[str] = []

    def finish(recorder: Recorder) -> None:
        nonlocal clips, rec_frames, rec_dropped, rec_missed
        info = recorder.stop()
        if info is None:
            return
        clips += 1
        rec_frames += info.frames
        rec_dropped += info.dropped
        rec_missed += info.missed
        if info.encoder and info.encoder not in encoders:
            encoders.append(info.encoder)
        if info.error:
            rec_errors.append(info.error)
        if info.path is not None and info.path.exists():
            info.path.unlink()  # a long soak must not fill the disk

    samples: list[tuple[float, int, float]] = []  # (seconds since start, frames rendered, RSS MB)
    with tempfile.TemporaryDirectory(prefix="fastvit-fx-soak-") as tmp:
        clip_folder = folder or tmp
        live.add_sink(sink)
        live.start()
        started = time.monotonic()
        clip_started, effect_index, last_frames = 0.0, 0, -1
        try:
            while (now := time.monotonic() - started) < duration:
                with lock:
                    recorder = current["recorder"]
                if recorder is None or now - clip_started >= clip_s or not recorder.active:
                    if recorder is not None:  # a new clip, with the next physics preset
                        with lock:
                            current["recorder"] = None
                        finish(recorder)
                        effect_index = (effect_index + 1) % len(renderers)
                        live.set_effect(renderers[effect_index])
                    recorder = Recorder(clip_folder, fps=fps)
                    recorder.start()
                    with lock:
                        current["recorder"] = recorder
                    clip_started = now
                time.sleep(min(sample_s, max(duration - now, 0.01)))
                frames = live.frames()
                stalls += frames == last_frames and now >= warmup  # (the scene may still be setting up)
                last_frames = frames
                samples.append((round(time.monotonic() - started, 2), frames, round(rss_mb(), 1)))
                if progress is not None:
                    progress(f"{samples[-1][0]:.0f} s: {frames} frames, RSS {samples[-1][2]:.0f} MB")
        finally:
            with lock:
                recorder, current["recorder"] = current["recorder"], None
            if recorder is not None:
                finish(recorder)
            live.stop()
    if not samples:
        samples.append((0.0, live.frames(), round(rss_mb(), 1)))
    # from the first sample after the warm-up (or the first of all in a very short run) to the last
    steady = [x for x in samples if x[0] >= warmup] or samples
    first, last = steady[0], steady[-1]
    span = last[0] - first[0]
    memory = memory_trend(samples, warmup)
    crashes = sum(r.count for r in renderers) + (counted_segmenter.count if counted_segmenter else 0) \
        + len(rec_errors) + stalls
    reasons = errors + rec_errors
    if live.error() and live.error() not in reasons:
        reasons.append(live.error())
    return SoakReport(
        minutes=minutes, effects=[p.name for p in presets], frames=last[1],
        fps=round((last[1] - first[1]) / span, 1) if span > 0 else 0.0, target_fps=fps,
        rss_start_mb=memory.start_mb, rss_end_mb=memory.end_mb, rss_growth_mb=memory.growth_mb,
        rss_growth_median_mb=memory.median_growth_mb, rss_peak_mb=max(x[2] for x in samples),
        crashes=crashes, stalls=stalls, clips=clips,
        rec_frames=rec_frames, rec_dropped=rec_dropped, rec_missed=rec_missed, encoders=encoders,
        errors=reasons[:5], samples=samples)


def bench_soak(minutes: float = 0.5, weights=None, progress: Callable[[str], None] | None = None) -> SoakReport:
    """The soak section of `fastvit-fx bench`: the trained segmenter (as the app builds it), on the demo."""
    from .pipeline import _segmenter

    segmenter, _ = _segmenter(weights)
    return run_soak(minutes=minutes, segmenter=segmenter, progress=progress)
