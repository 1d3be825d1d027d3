"""Every preset renders: odd frame sizes, all-background and all-person masks, the right shape and
dtype, input untouched; render_frames; the effects bench and the strip script on tiny inputs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastvit_fx.fx import EffectRenderer, load_presets, render_frames
from fastvit_fx.fx.synth import SyntheticClip

REPO = Path(__file__).resolve().parent.parent
PRESETS = load_presets()
NAMES = PRESETS.names()


def masks_for(h: int, w: int) -> dict[str, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    person = np.clip(min(h, w) * 0.3 - np.hypot(x - w * 0.5, y - h * 0.6), 0, 1).astype(np.float32)
    return {"background": np.zeros((h, w), np.float32), "person": np.ones((h, w), np.float32), "disc": person}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [(359, 641), (48, 64)])
def test_every_preset_on_odd_sizes_and_extreme_masks(name, size):
    h, w = size
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    keep = frame.copy()
    renderer = EffectRenderer(PRESETS.get(name))
    for kind, mask in masks_for(h, w).items():
        renderer.reset()
        for i in range(3):
            out = renderer.render(frame, mask, i / 30)
            assert out.shape == frame.shape and out.dtype == np.uint8, (kind, i)
            assert out is not frame and not np.shares_memory(out, frame)
        assert (frame == keep).all(), f"{name} modified its input ({kind})"


def test_none_is_a_pass_through():
    frame = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out = EffectRenderer("none").render(frame, np.ones((37, 53), np.float32), 0.0)
    assert (out == frame).all()


@pytest.mark.parametrize("name", ["chrome", "ripples", "snow"])
def test_mirrored_frame_views_work(name):
    frame = np.random.default_rng(2).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    mirrored = frame[:, ::-1]  # what a selfie view hands over
    out = EffectRenderer(name).render(mirrored, masks_for(60, 80)["disc"], 0.0)
    assert out.shape == (60, 80, 3)


def test_mask_inputs_are_forgiving():
    frame = np.zeros((40, 60, 3), np.uint8)
    r = EffectRenderer("color-pop")
    for mask in (None, np.full((40, 60), 255, np.uint8), np.ones((40, 60), bool),
                 np.ones((20, 30), np.float32), np.full((40, 60, 1), 0.5, np.float64)):
        assert r.render(frame, mask, 0.0).shape == frame.shape
    with pytest.raises(ValueError):
        r.render(np.zeros((40, 60), np.uint8), None, 0.0)


def test_frame_size_change_restarts_simulations():
    r = EffectRenderer("snow")
    a = np.zeros((90, 160, 3), np.uint8)
    b = np.zeros((120, 200, 3), np.uint8)
    r.render(a, None, 0.0)
    r.render(a, None, 0.1)
    assert r.render(b, None, 0.2).shape == b.shape
    assert r.passes[-1].sim.shape == (120, 200)


def test_render_frames_over_a_clip():
    clip = SyntheticClip(160, 90)
    pairs = [clip(i / 30) for i in range(5)]
    frames = [f for f, _ in pairs]
    outs = list(render_frames(frames, [m for _, m in pairs], "snow"))
    assert len(outs) == 5 and all(o.shape == (90, 160, 3) for o in outs)
    masks_by_call = list(render_frames(frames, lambda f: np.ones(f.shape[:2], np.float32), PRESETS.get("chrome")))
    assert len(masks_by_call) == 5
    with pytest.raises(ValueError, match="ran out"):
        list(render_frames(frames, [pairs[0][1]], "none"))


def test_synthetic_clip_looks_like_a_person():
    frame, mask = SyntheticClip(320, 180)(1.0)
    assert frame.shape == (180, 320, 3) and mask.dtype == np.float32
    assert 0.1 < mask.mean() < 0.5  # a person, not the whole frame
    assert mask[:20].max() < 0.5 and mask[-1].max() == 1.0  # head below the top, body to the bottom


def test_bench_effects_rows():
    from fastvit_fx.bench.effects import REFERENCE, bench_effects, format_table

    rows = bench_effects(width=160, height=90, frames=3, warmup=1, names=["none", "snow"])
    assert [r["name"] for r in rows] == [REFERENCE, "none", "snow"]
    assert all(r["median_ms"] >= 0 and r["p90_ms"] >= r["median_ms"] * 0.999 for r in rows)
    assert "| snow |" in format_table(rows)


def test_strip_script_writes_pngs(tmp_path):
    cmd = [sys.executable, str(REPO / "scripts/render_effect_strips.py"), "--out", str(tmp_path),
           "--names", "none", "snow", "--times", "0.1", "0.2", "--size", "160x90", "--thumb", "80",
           "--source", "synthetic"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    import cv2

    strip = cv2.imread(str(tmp_path / "snow.png"))
    assert strip.shape == (45, 2 * 80 + 4, 3)
