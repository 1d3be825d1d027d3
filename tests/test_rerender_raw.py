"""Record once, choose the effect later: a raw clip recorded by the session, re-rendered offline with another
effect at --quality high, has every frame and that effect's look (color-pop: the background in grey)."""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx.io.capture import ArraySource, VideoReader
from fastvit_fx.cli import main
from fastvit_fx.live.session import LiveSession

from test_live_session import PRESETS, left_half, paint_effect


def colourful_frames(count=6, size=(96, 64)):
    frames = []
    for i in range(count):
        image = np.zeros((size[1], size[0], 3), np.uint8)
        image[:] = (40 + 20 * i, 60, 220)  # saturated red-orange (BGR), changing a little
        image[:, ::8] = (200, 80, 30)  # blue stripes
        frames.append(image)
    return frames


class LeftHalfSegmenter:
    """A stand-in for the network (the person is the left half) with the zoom tracker high quality tunes."""

    backend_name = "fake"

    def __init__(self) -> None:
        self.tracker = type("Tracker", (), {"refresh": 12})()

    def __call__(self, frame, interval_s=None):
        return left_half(frame)


def record_raw_clip(tmp_path):
    source = ArraySource(colourful_frames(), fps=30)
    session = LiveSession(source, PRESETS, make_effect=paint_effect, segmenter=left_half,
                          record_dir=tmp_path / "clips", mirror=True)
    session.start()
    try:
        assert session.driver.wait_masks(1)
        session.start_recording(raw=True)
        assert session.driver.wait_frames(session.driver.frames_out + 15, timeout=20)
        session.stop_recording()
    finally:
        session.stop()
    return session.last_raw_clip


def test_raw_clip_rerendered_with_another_effect(tmp_path, monkeypatch, capsys):
    pytest.importorskip("fastvit_fx.fx")
    from fastvit_fx.commands import common

    raw = record_raw_clip(tmp_path)
    assert raw is not None and raw.frames >= 10 and raw.path.name.endswith("-raw.mp4")
    built = []

    def make_segmenter(args, smooth=False):
        built.append((args.size, smooth))
        built.append(LeftHalfSegmenter())
        return built[-1]

    monkeypatch.setattr(common, "make_segmenter", make_segmenter)
    out = tmp_path / "again.mp4"
    code = main(["render", str(raw.path), "--effect", "color-pop", "--quality", "high", "--out", str(out),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert built[0] == (384, True) and built[1].tracker.refresh == 1  # heavier than live: 384 px, zoom every frame
    with VideoReader(raw.path) as reader:
        raw_frames = list(reader)
    with VideoReader(out) as reader:
        frames = list(reader)
    assert len(frames) == len(raw_frames) == raw.frames
    last = frames[-1].astype(int)
    background = last[:, last.shape[1] // 2 + 4:]  # the raw clip is not mirrored: the person is on the left
    person = last[:, : last.shape[1] // 2 - 4]
    spread = lambda px: np.abs(px.max(axis=2) - px.min(axis=2)).mean()  # noqa: E731
    assert spread(background) < 8  # grey
    assert spread(person) > 100  # still in colour
    assert np.abs(raw_frames[-1].astype(int)[:, :40] - last[:, :40]).mean() < 8  # the person is untouched


def test_size_given_wins_over_high_quality(tmp_path, monkeypatch):
    pytest.importorskip("fastvit_fx.fx")
    from fastvit_fx.commands import common
    from test_render import make_video

    sizes = []
    monkeypatch.setattr(common, "make_segmenter", lambda args, smooth=False: sizes.append(args.size) or
                        LeftHalfSegmenter())
    source = make_video(tmp_path / "in.mp4", count=3)
    assert main(["render", str(source), "--effect", "none", "--quality", "high", "--size", "320",
                 "--out", str(tmp_path / "o.mp4"), "--no-progress"]) == 0
    assert main(["render", str(source), "--effect", "none", "--out", str(tmp_path / "p.mp4"), "--no-progress"]) == 0
    assert sizes == [320, None]  # live quality: the model's own size
