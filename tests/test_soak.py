"""The soak check: live path + physics + recording, with memory and crash counts (short runs here)."""
from __future__ import annotations

import pytest

from fastvit_fx import fx
from fastvit_fx.bench.soak import memory_trend, rss_mb, run_soak

SMALL = (320, 180)


def test_rss_is_read():
    assert 10 < rss_mb() < 100_000


def test_memory_trend_sees_a_leak_and_not_a_sawtooth():
    # a clip starting lifts RSS for a moment: a flat floor with spikes is no growth, by either reading
    sawtooth = [(t, t * 30, 300.0 + (25.0 if t % 7 == 0 else t % 3)) for t in range(0, 600, 2)]
    flat = memory_trend(sawtooth, warmup_s=10)
    assert flat.growth_mb == 0.0 and abs(flat.median_growth_mb) <= 1.0
    # a leak of 6 MB a minute lifts both
    leak = [(t, t * 30, 300.0 + 0.1 * t + (25.0 if t % 7 == 0 else 0.0)) for t in range(0, 600, 2)]
    grown = memory_trend(leak, warmup_s=10)
    assert 40 < grown.growth_mb < 60 and 40 < grown.median_growth_mb < 60
    assert grown.start_mb < grown.end_mb
    # samples inside the warm-up are left out
    warm = [(0.0, 0, 500.0)] + [(t, t, 300.0) for t in range(10, 100, 2)]
    assert memory_trend(warm, warmup_s=10).start_mb == 300.0


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
    assert report.rss_growth_median_mb == report.rss_growth_median_mb  # a number, not nan
    assert list(tmp_path.iterdir()) == []  # finished clips are deleted as it goes
    line = report.summary()
    assert "\n" not in line and "0 crashes" in line and "RSS" in line
    assert set(report.row()) >= {"frames", "fps", "rss_start_mb", "rss_end_mb", "rss_growth_mb",
                                "rss_growth_median_mb", "crashes"}


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


def test_bench_command_runs_the_soak_only_when_asked(monkeypatch, capsys):
    from fastvit_fx import cli
    from fastvit_fx.bench import soak
    from fastvit_fx.commands import bench

    asked = {}

    def fake_bench_soak(minutes, weights=None, progress=None):
        asked["minutes"] = minutes
        return soak.SoakReport(minutes=minutes, effects=["snow"], frames=90, fps=29.5, target_fps=30.0,
                               rss_start_mb=300.0, rss_end_mb=301.5, rss_growth_mb=1.5, rss_peak_mb=310.0,
                               crashes=0, stalls=0, clips=1, rec_frames=88, rec_dropped=0, rec_missed=2)

    monkeypatch.setattr(soak, "bench_soak", fake_bench_soak)
    args = cli.build_parser().parse_args(["bench"])
    assert "soak" in bench.SECTIONS and "soak" not in args.sections and args.minutes == 0.5
    assert cli.main(["bench", "--sections", "soak", "--minutes", "0.25"]) == 0
    assert asked["minutes"] == 0.25
    assert "soak 0.25 min (snow, recording): 90 frames at 29.5 fps" in capsys.readouterr().out
    assert cli.main(["bench", "--sections", "soak", "--minutes", "0.1", "--json"]) == 0
    import json

    row = json.loads(capsys.readouterr().out)["soak"][0]
    assert row["frames"] == 90 and row["rss_growth_mb"] == 1.5
