"""The pipeline section of `fastvit-fx bench`, at a tiny size with a stand-in segmenter (shape of the rows)."""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx.bench.pipeline import bench_pipeline, bench_render

pytest.importorskip("fastvit_fx.fx")


class HalfSegmenter:
    backend_name = "fake"
    last_ms = 0.5

    def __call__(self, frame, interval_s=None):
        mask = np.zeros(frame.shape[:2], np.float32)
        mask[:, : frame.shape[1] // 2] = 1
        return mask


def test_bench_pipeline_rows():
    rows = bench_pipeline(seconds=0.5, presets=["none", "blur-bg"], size=(160, 96), warmup=0.1,
                          segmenter=HalfSegmenter())
    assert [r["effect"] for r in rows] == ["none", "blur-bg"]
    for row in rows:
        assert row["target_fps"] == 30 and 0 < row["fps"] <= 40
        assert row["rec_frames"] > 0 and row["rec_dropped"] >= 0 and row["seg_per_s"] > 0


def test_bench_render_rows():
    rows = bench_render(seconds=0.5, presets=["none"], size=(96, 64), segmenter=HalfSegmenter())
    assert len(rows) == 1
    row = rows[0]
    assert row["frames"] == 15 and row["size"] == "96x64" and row["x_realtime"] > 0


class DemoTruthSegmenter:
    """Knows the fast demo's exact mask for each of its frames (by content): a perfect segmenter."""

    backend_name = "fake"
    last_ms = 1.0

    def __init__(self, seconds, size, fps):
        from fastvit_fx.io.demo import DemoScene

        scene = DemoScene(*size, motion="fast")
        self.truths = {}
        for i in range(int(round(seconds * fps))):
            image, truth = scene.render(i / fps, with_mask=True)
            self.truths[image.tobytes()] = truth

    def __call__(self, frame, interval_s=None):
        return self.truths[frame.tobytes()]


def test_bench_live_report():
    from fastvit_fx.bench.live import bench_live, format_live

    size, fps, loop = (160, 96), 30.0, 1.0
    report = bench_live(seconds=1.0, size=size, fps=fps, loop_s=loop, warmup=0.2, render=False,
                        segmenter=DemoTruthSegmenter(loop, size, fps), slowed_ms=40.0)
    assert {"iou", "iou_newest_mask", "fps", "latency_ms"} <= set(report)
    assert [(r["mode"], r["segmenter"]) for r in report["modes"]] == [
        ("own", "as is"), ("carry", "as is"), ("own", "+40 ms"), ("carry", "+40 ms")]
    own_slowed = report["modes"][2]
    assert own_slowed["iou"] > 0.99  # every frame shown with its own (here exact) mask
    assert own_slowed["iou_newest_mask"] < own_slowed["iou"]  # the newest mask is a frame or more old
    assert report["fps"] > 0 and report["latency_ms"] > 0
    assert "iou newest mask" in format_live(report)
