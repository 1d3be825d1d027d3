"""The soak check: live path + physics + recording, with memory and crash counts (short runs here)."""
from __future__ import annotations

import pytest

from fastvit_fx import fx
from fastvit_fx.bench.soak import rss_mb, run_soak

SMALL = (320, 180)


def test_rss_is_read():
    assert 10 < rss_mb() < 100_000


def test_a_short_soak_reports_frames_memory_clips_and_no_crashes(tmp_path):
    report = run_soak(minutes=6 / 60, size=SMALL, clip_s=2.0, sample_s=0.5, warmup_s=1.0, folder=str(tmp_path))
    assert report.effects == ["snow", "bounce"]
    assert report.frames > 30 and report.fps > 5
    assert report.crashes == 0 and report.errors == [] and report.stalls == 0
    assert report.clips >= 2 and report.rec_frames > 20
    assert report.encoders and report.encoders[0].startswith("libx264")
    assert report.rss_start_mb > 0 and report.rss_end_mb > 0
    assert report.rss_growth_mb == pytest.approx(report.rss_end_mb - report.rss_start_mb, abs=0.05)
    assert report.rss_peak_mb >= max(report.rss_start_mb, report.rss_end_mb)
    assert list(tmp_path.iterdir()) == []  # finished clips are deleted as it goes
    line = report.summary()
    assert "\n" not in line and "0 crashes" in line and "RSS" in line
    assert set(report.row()) >= {"frames", "fps", "rss_start_mb", "rss_end_mb", "rss_growth_mb", "crashes"}


def test_exceptions_in_the_effect_are_counted_as_crashes(tmp_path, monkeypatch):
    class Failing(fx.EffectRenderer):
        calls = 0

        def render(self, *args, **kwargs):
            Failing.calls += 1
            if Failing.calls % 10 == 0:
                raise RuntimeError("simulated failure")
            return super().render(*args, **kwargs)

    monkeypatch.setattr(fx, "EffectRenderer", Failing)
    report = run_soak(minutes=3 / 60, effects=("bounce",), size=SMALL, clip_s=10.0, sample_s=0.5, warmup_s=0.5,
                      folder=str(tmp_path))
    assert report.crashes >= 1
    assert report.errors and "simulated failure" in report.errors[0]
