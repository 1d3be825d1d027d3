"""The pipeline section of `fastvit-fx bench`, at a tiny size with a stand-in segmenter (shape of the rows)."""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx.bench.pipeline import bench_pipeline, bench_render

pytest.importorskip("fastvit_fx.fx")


class HalfSegmenter:
    backend_name = "fake"
    last_ms = 0.5

    def __call__(self, frame):
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
