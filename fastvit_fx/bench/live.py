"""Live accuracy: does each shown frame get a mask that fits it?

The fast demo (the person walks about five times faster than the calm demo, arms swinging; the scene
knows the exact mask of every frame) is pre-rendered and played in a loop at 30 fps through the live
driver, with the same threads as the app, the real segmenter and an effect on. For every frame shown:

- `iou`: the mask it was composed with against that frame's exact mask;
- `iou_newest_mask`: the same for the newest mask finished when the frame was captured (what the live
  path did before it paired frames with their own masks), in the same run;
- `fps` shown and `latency_ms`, capture to shown.

The loop's jump back to its start is a cut: it must not leave a ghost (see `cuts` and the IoU).
Each mask mode (`own`: fewer frames, each with its own mask; `carry`: every frame, skipped ones get a
mask carried by optical flow) gets a row; the top level repeats the default mode's.

    python -m fastvit_fx.bench.live [seconds]
"""
from __future__ import annotations

import collections
import threading
import time

import numpy as np


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


def _small(mask: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(mask[::2, ::2] > 0.5)


class _Witness:
    """Wraps the segmenter: remembers when each mask was ready, for the newest-mask comparison."""

    def __init__(self, segmenter, extra_ms: float = 0.0) -> None:
        self.segmenter = segmenter
        self.extra_s = extra_ms / 1000  # a slower machine, as far as the timing goes
        self.done: collections.deque = collections.deque(maxlen=64)  # (ready at, small mask)
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.segmenter, name)

    def __call__(self, image, interval_s=None):
        mask = self.segmenter(image, interval_s=interval_s)
        if self.extra_s:
            time.sleep(self.extra_s)
        small = _small(mask)
        with self._lock:
            self.done.append((time.monotonic(), small))
        return mask

    def newest_before(self, t: float) -> np.ndarray | None:
        with self._lock:
            older = [m for when, m in self.done if when <= t]
        return older[-1] if older else None


def fast_demo_frames(seconds: float, size: tuple[int, int], fps: float) -> tuple[list, list]:
    from ..io.demo import DemoScene

    scene = DemoScene(size[0], size[1], motion="fast")
    images, truths = [], []
    for i in range(int(round(seconds * fps))):
        image, truth = scene.render(i / fps, with_mask=True)
        images.append(image)
        truths.append(_small(truth))
    return images, truths


def measure_mode(mode: str, images: list, truths: list, segmenter, effect, seconds: float, fps: float,
                 warmup: float, extra_ms: float = 0.0) -> dict:
    from ..io.capture import ArraySource
    from ..live import LiveDriver

    index = {id(image): k for k, image in enumerate(images)}
    witness = _Witness(segmenter, extra_ms)
    shown: list = []
    recording = threading.Event()

    def sink(out) -> None:
        if recording.is_set():
            newest = witness.newest_before(out.frame.t)
            mask = None if out.mask is None else _small(out.mask)
            shown.append((index[id(out.frame.image)], mask, newest, out.rendered_at - out.frame.t, out.carried))

    driver = LiveDriver(ArraySource(images, fps=fps, truths=None), witness, effect, mask_mode=mode)
    driver.add_sink(sink)
    with driver:
        driver.wait_masks(1, timeout=120)
        time.sleep(warmup)
        start = driver.stats()
        recording.set()
        t0 = time.monotonic()
        time.sleep(seconds)
        recording.clear()
        span = time.monotonic() - t0
        end = driver.stats()
    empty = np.zeros_like(truths[0])
    ious = [_iou(m if m is not None else empty, truths[k]) for k, m, _, _, _ in shown]
    newest = [_iou(n if n is not None else empty, truths[k]) for k, _, n, _, _ in shown]
    return {
        "mode": mode,
        "segmenter": f"+{extra_ms:g} ms" if extra_ms else "as is",
        "iou": round(float(np.mean(ious)), 4) if ious else None,
        "iou_newest_mask": round(float(np.mean(newest)), 4) if newest else None,
        "iou_p10": round(float(np.percentile(ious, 10)), 4) if ious else None,
        "fps": round(len(shown) / span, 1),
        "latency_ms": round(1000 * float(np.mean([lat for _, _, _, lat, _ in shown])), 1) if shown else None,
        "seg_per_s": round((end.masks - start.masks) / span, 1),
        "seg_ms": round(end.seg_call_ms, 1),
        "compose_ms": round(end.render_ms, 1),
        "carry_ms": round(end.carry_ms, 1),
        "carried": round(sum(c for *_, c in shown) / max(len(shown), 1), 2),
        "cuts": end.cuts - start.cuts,
    }


def bench_live(seconds: float = 8.0, size: tuple[int, int] = (1280, 720), fps: float = 30.0, loop_s: float = 4.0,
               effect: str = "rim-light", modes=("own", "carry"), segmenter=None, weights=None,
               warmup: float = 1.5, render: bool = True, slowed_ms: float | None = 40.0) -> dict:
    """The live section: the default mode's numbers at the top level, every mode under "modes", and
    (render=True) the offline render speed of the same effect at the same size, in the same run.

    slowed_ms: each mode again with the segmenter that much slower (a sleep after each call), so
    that it cannot look at every frame: the case the two modes differ in. A sleep frees the CPU
    where a slower machine would not, so these rows flatter both modes alike."""
    from ..fx import EffectRenderer, load_presets
    from ..live import DEFAULT_MASK_MODE
    from .pipeline import _segmenter, bench_render

    preset = load_presets().get(effect)
    images, truths = fast_demo_frames(loop_s, size, fps)
    segmenter, model = _segmenter(weights, given=segmenter)
    slowdowns = [0.0] + ([slowed_ms] if slowed_ms else [])
    rows = [measure_mode(mode, images, truths, segmenter, EffectRenderer(preset), seconds, fps, warmup, extra)
            for extra in slowdowns for mode in modes]
    del images
    chosen = next((r for r in rows if r["mode"] == DEFAULT_MASK_MODE.value and r["segmenter"] == "as is"), rows[0])
    report = {key: chosen[key] for key in ("iou", "iou_newest_mask", "fps", "latency_ms")}
    report.update({"mask_mode": chosen["mode"], "effect": effect, "size": f"{size[0]}x{size[1]}",
                   "source_fps": fps, "model": model, "backend": getattr(segmenter, "backend_name", None),
                   "modes": rows})
    if render:
        report["render"] = bench_render(seconds=3.0, presets=(effect,), size=size, fps=fps, segmenter=segmenter)
    return report


def _three_places(row: dict) -> dict:
    """IoUs differ in the third place; the shared table printer shows two."""
    return {k: f"{v:.3f}" if k.startswith("iou") and isinstance(v, float) else v for k, v in row.items()}


def format_live(report: dict) -> str:
    """The live section as tables (what `fastvit-fx bench --sections live` prints without --json)."""
    from .timing import format_table

    lines = [f"Live, fast demo {report['size']} at {report['source_fps']:g} fps, effect {report['effect']}, "
             f"{report['backend']} ({report['model']}); default mask mode: {report['mask_mode']}",
             format_table([_three_places(r) for r in report["modes"]], [("mode", "mask mode"), ("segmenter", "segmenter"), ("iou", "iou"),
                                            ("iou_newest_mask", "iou newest mask"), ("iou_p10", "iou p10"),
                                            ("fps", "fps"), ("latency_ms", "latency ms"),
                                            ("seg_per_s", "masks/s"), ("seg_ms", "seg ms"),
                                            ("compose_ms", "compose ms"), ("carry_ms", "carry ms"),
                                            ("carried", "carried"), ("cuts", "cuts")])]
    for row in report.get("render", []):
        lines.append(f"offline render, {row['effect']} {row['size']}: {row['x_realtime']}x real time "
                     f"({row['ms_per_frame']} ms a frame)")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(format_live(bench_live(seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 8.0)))
