"""chrome and sheen on a person-like input: one material over the whole body (no silver half and
brown half, also when the person is lit from one side), no translucent ghost where the segmenter
was unsure, and a room that stays visible behind the sheen."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx.fx import EffectRenderer
from fastvit_fx.fx.fields import Fields
from fastvit_fx.fx.passes import PASSES, Context

H, W = 360, 640


def body_mask() -> np.ndarray:
    """A standing figure: an upright ellipse (torso and legs) and a head, soft-edged like a segmenter's."""
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, (320, 210), (70, 140), 0, 0, 360, 255, -1)
    cv2.circle(mask, (320, 60), 32, 255, -1)
    return cv2.GaussianBlur(mask, (0, 0), 1.5).astype(np.float32) / 255


def lit_from_the_left(mask: np.ndarray) -> np.ndarray:
    """A room at mid grey with a person lit from the left: bright on their left, dark on their right."""
    x = np.linspace(0, 1, W, dtype=np.float32)[None, :]
    person = np.clip(200 - 170 * (x - 0.39) / 0.22, 30, 200)  # 200 at the left edge -> 30 at the right
    frame = 120 + (person - 120) * mask
    return np.repeat(np.round(frame)[..., None], 3, axis=2).astype(np.uint8)


def run_pass(name: str, frame: np.ndarray, mask: np.ndarray, t: float, **params) -> np.ndarray:
    fields = Fields(frame, mask)
    ctx = Context(fields, t, 1 / 30, frame)
    return ctx.flush(PASSES[name](**params).render(frame, ctx))


def halves(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The body's inside (well away from its edge), split into its left and right halves."""
    inside = cv2.erode((mask > 0.99).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    left = inside.copy()
    left[:, 320:] = False
    right = inside.copy()
    right[:, :320] = False
    return left, right


@pytest.mark.parametrize("lighting", ["flat", "side-lit"])
def test_chrome_is_one_material_left_and_right(lighting):
    mask = body_mask()
    frame = lit_from_the_left(mask) if lighting == "side-lit" else np.full((H, W, 3), 120, np.uint8)
    left, right = halves(mask)
    worst = 0.0
    for t in np.linspace(0.0, 12.0, 13):  # the reflections slide and the highlight circles: all along
        grey = cv2.cvtColor(run_pass("chrome", frame, mask, float(t)), cv2.COLOR_BGR2GRAY).astype(np.float32)
        a, b = grey[left].mean(), grey[right].mean()
        worst = max(worst, abs(a - b) / max(a, b))
    assert worst < 0.2, f"chrome's halves differ by {worst:.0%} of their brightness"


def test_chrome_interior_is_bright_metal_not_mud():
    mask = body_mask()
    frame = lit_from_the_left(mask)
    left, right = halves(mask)
    inside = left | right
    for t in (0.0, 3.0, 7.5):
        out = run_pass("chrome", frame, mask, t)
        grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY).astype(np.float32)
        assert np.percentile(grey[inside], 10) > 60, "dark brown patches inside the body"
        b, g, r = (out[inside].astype(np.float32).mean(axis=0))
        assert r - b < 25, "the body's mean colour is brown, not silver"


def test_chrome_leaves_an_unsure_ghost_alone():
    mask = body_mask()
    ghost = np.zeros_like(mask)
    ghost[30:110, 370:440] = 0.35  # beside the head, where the segmenter was unsure
    mask = np.maximum(mask, ghost)
    frame = np.full((H, W, 3), 120, np.uint8)
    out = run_pass("chrome", frame, mask, 1.0)
    region = (ghost > 0) & (body_mask() < 0.01)
    assert np.abs(out[region].astype(int) - 120).max() <= 2, "a translucent metal ghost beside the head"


def test_sheen_keeps_the_room_visible():
    mask = body_mask()
    rng = np.random.default_rng(3)
    room = cv2.GaussianBlur(rng.integers(60, 220, (H, W, 3), dtype=np.uint8), (0, 0), 3)
    room = cv2.add(room, np.full_like(room, 20))
    frame = np.round(room * (1 - mask[..., None]) + 90 * mask[..., None]).astype(np.uint8)
    renderer = EffectRenderer("sheen")
    background = mask < 0.01
    ratios = []
    for i in range(0, 90, 15):
        out = renderer.render(frame, mask, i / 30)
        ratios.append(out[background].mean() / frame[background].mean())
    assert min(ratios) > 0.5, f"sheen darkens the room to {min(ratios):.0%} of its brightness"
    assert max(ratios) < 0.95, "sheen's backdrop should still be dimmer than the room"
