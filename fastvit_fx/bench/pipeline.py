"""Pipeline speed: frames delivered per second against a 30 fps 1280x720 source with each preset on
(and recording on), and offline render speed as a multiple of real time.

The live source is synthetic: one second of the demo scene, pre-rendered and played in a loop at
the camera's rate, so the numbers measure the pipeline (segmenter, effect, recorder), not a camera
driver or the demo's own drawing. Without trained weights the segmenter runs a randomly initialised
network of the same shape (same cost); the rows say so.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _segmenter(weights=None, size=None, given=None):
    """(segmenter, what model it is); a segmenter the caller already has is used as it is."""
    if given is not None:
        return given, "given"
    from ..model import WeightsError
    from ..segment import Segmenter, open_segmenter

    try:
        return open_segmenter(weights, size=size, smooth=True), "trained"
    except WeightsError:
        if weights is not None:
            raise
        from ..model import build_model, reparameterize

        model = build_model()
        try:
            reparameterize(model)  # the trained path runs the fused network; time the same thing
        except Exception:
            pass
        from ..backends.torch_backend import TorchBackend

        return Segmenter(TorchBackend(model, device="cpu"), model.config, size=size, smooth=True), \
            "random (no trained weights yet)"


def bench_pipeline(seconds: float = 4.0, presets=None, record: bool = True, size: tuple[int, int] = (1280, 720),
                   fps: float = 30.0, weights=None, warmup: float = 1.5, segmenter=None) -> list[dict]:
    """One row per preset: delivered fps (target `fps`), segmentation rate and time, render time,
    latency, and with record=True the frames the recorder wrote and dropped."""
    from ..io.capture import ArraySource, demo_frames
    from ..fx import EffectRenderer, load_presets
    from ..live import LiveDriver
    from ..live.sinks import RecorderSink

    library = load_presets()
    chosen = [library.get(p) if isinstance(p, str) else p for p in presets] if presets else list(library.presets)
    images, _ = demo_frames(int(fps), size[0], size[1], fps=fps)
    segmenter, model = _segmenter(weights, given=segmenter)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fastvit-fx-bench-") as tmp:
        for preset in chosen:
            source = ArraySource(images, fps=fps)
            # the driver caps torch's threads on its worker, as in the app (live/threads.py)
            driver = LiveDriver(source, segmenter, effect=EffectRenderer(preset))
            recorder = RecorderSink(tmp, fps=fps) if record else None
            driver.start()
            try:
                driver.wait_masks(1, timeout=120)
                time.sleep(warmup)
                if recorder is not None:
                    recorder.start()
                    driver.add_sink(recorder)
                gate = getattr(segmenter, "large_size_gate", None)
                g0 = (gate.calls, gate.large_calls, gate.closures) if gate is not None else None
                f0, m0, s0, t0 = driver.frames_out, driver.masks_made, driver.skipped, time.monotonic()
                time.sleep(seconds)
                f1, m1, s1, t1 = driver.frames_out, driver.masks_made, driver.skipped, time.monotonic()
                g1 = (gate.calls, gate.large_calls, gate.closures) if gate is not None else None
                stats = driver.stats()
            finally:
                driver.stop()
            info = recorder.stop() if recorder is not None else None
            span = t1 - t0
            row = {
                "effect": preset.name,
                "fps": round((f1 - f0) / span, 1),
                "target_fps": fps,
                "skipped": s1 - s0,
                "seg_per_s": round((m1 - m0) / span, 1),
                "seg_ms": round(stats.seg_call_ms, 1),
                "render_ms": round(stats.render_ms, 1),
                "latency_ms": round(stats.latency_ms, 1),
            }
            if g0 is not None and getattr(segmenter, "sizes", None) is not None and segmenter.sizes.large:
                # how many masks ran at the large input size for large people, and how often it fell back
                row["large_share"] = round((g1[1] - g0[1]) / max(g1[0] - g0[0], 1), 2)
                row["large_fallbacks"] = g1[2] - g0[2]
            if info is not None:
                row["rec_frames"] = info.frames
                row["rec_dropped"] = info.dropped
                row["rec_fps"] = round(info.frames / span, 1)
                if info.path is not None and info.path.exists():
                    info.path.unlink()
            row["model"] = model
            rows.append(row)
    return rows


def bench_render(seconds: float = 3.0, presets=("blur-bg",), size: tuple[int, int] = (1280, 720),
                 fps: float = 30.0, weights=None, segmenter=None) -> list[dict]:
    """Offline render of a `seconds`-long clip of the demo scene: one row per preset with the wall
    time and the speed as a multiple of real time (>= 1: faster than playback)."""
    from ..io.capture import demo_frames
    from ..fx import EffectRenderer, load_presets
    from ..live.offline import render_video  # it caps torch's threads while it runs (live/threads.py)
    from ..io.record import ClipWriter

    library = load_presets()
    images, _ = demo_frames(int(round(seconds * fps)), size[0], size[1], fps=fps)
    segmenter, model = _segmenter(weights, given=segmenter)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fastvit-fx-bench-") as tmp:
        clip = Path(tmp) / "input.mp4"
        with ClipWriter(clip, size[0], size[1], fps=fps, crf=18) as writer:
            for image in images:
                writer.write(image)
        del images
        for name in presets:
            preset = library.get(name) if isinstance(name, str) else name
            result = render_video(clip, Path(tmp) / "out.mp4", EffectRenderer(preset), segmenter, progress=False)
            rows.append({
                "effect": preset.name,
                "frames": result.frames,
                "size": f"{result.size[0]}x{result.size[1]}",
                "video_s": round(result.video_seconds, 2),
                "wall_s": round(result.seconds, 2),
                "x_realtime": round(result.speed, 2),
                "ms_per_frame": round(1000 * result.seconds / max(result.frames, 1), 1),
                "model": model,
            })
    return rows


if __name__ == "__main__":  # python -m fastvit_fx.bench.pipeline
    import json
    import sys

    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    for row in bench_pipeline(seconds=secs):
        print(json.dumps(row))
    for row in bench_render():
        print(json.dumps(row))
