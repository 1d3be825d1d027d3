"""Edges on a person the way a camera and a segmenter give them: a soft silhouette edge that mixes
the person with the old background, and a soft tail of mask where the segmenter was unsure (a
sliver of sofa beside an arm). replace-bg, blur-bg and color-pop must show neither a light halo
round the person nor the sliver."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx.fx import EffectRenderer
from fastvit_fx.fx.fields import Fields, matte_curve
from fastvit_fx.fx.passes import PASSES, Context

H, W = 240, 320
PERSON = np.array([60, 90, 50], np.float32)  # BGR: a dark green shirt
OLD_BG = np.array([235, 235, 235], np.float32)  # a light wall: what a halo would show
YELLOW = np.array([30, 215, 240], np.float32)  # the sofa
SLIVER = (slice(80, 160), slice(210, 226))  # beside the person's right edge, on the sofa


def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frame, alpha, mask): a person disc with a camera-soft edge over a light wall and a sofa;
    the mask is the true alpha plus a 0.3 tail over a strip of the sofa."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    dist = np.hypot(x - 150, y - 120) - 60  # > 0 outside the person
    alpha = np.clip(0.5 - dist / 3.0, 0, 1)  # a 3 px soft edge
    bg = np.broadcast_to(OLD_BG, (H, W, 3)).copy()
    bg[:, 200:] = YELLOW
    frame = alpha[..., None] * PERSON + (1 - alpha[..., None]) * bg
    mask = alpha.copy()
    sliver = np.zeros((H, W), bool)
    sliver[SLIVER] = True
    sliver &= alpha < 0.01
    mask[sliver] = 0.3
    return np.round(frame).astype(np.uint8), alpha, mask.astype(np.float32)


def run_pass(name: str, frame: np.ndarray, mask: np.ndarray, t: float = 0.0, **params) -> np.ndarray:
    fields = Fields(frame, mask)
    ctx = Context(fields, t, 1 / 30, frame)
    return ctx.flush(PASSES[name](**params).render(frame, ctx))


def luma(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)


def ring(alpha: np.ndarray, inner: float, outer: float) -> np.ndarray:
    """Pixels between `inner` and `outer` px outside the person (alpha exactly 0 there)."""
    d = cv2.distanceTransform((alpha <= 0).astype(np.uint8), cv2.DIST_L2, 5)
    return (d >= inner) & (d <= outer) & (alpha <= 0)


def test_matte_curve_drops_unsure_tails_and_keeps_the_person_solid():
    lut = matte_curve(0.4, 0.8)
    assert lut[0] == 0 and lut[int(0.4 * 255)] == 0 and lut[int(0.3 * 255)] == 0
    assert lut[int(0.8 * 255) + 1] == 255 and lut[255] == 255
    assert (np.diff(lut.astype(int)) >= 0).all()
    with pytest.raises(ValueError):
        matte_curve(0.8, 0.4)


BACKDROP = "#1e3c64"  # the new background: one colour, so 'close to it' is easy to state
NEW_BG = np.array([0x64, 0x3c, 0x1e], np.float32)  # BGR


def test_replace_bg_no_halo_just_outside_the_edge():
    frame, alpha, mask = scene()
    out = run_pass("background", frame, mask, colors=[BACKDROP, BACKDROP], drift=0.0, light_wrap=0.35)
    near = ring(alpha, 0.5, 6.0)
    near[:, 195:] = False  # the sofa side is checked by the sliver test
    err = np.abs(out[near].astype(np.float32) - NEW_BG).max(axis=1)
    assert err.max() <= 3, f"up to {err.max():.0f} levels of halo beside the person"
    assert err.mean() <= 1


def test_replace_bg_no_light_fringe_on_the_edge():
    """Edge pixels mix the person with the new background, not with the old light wall."""
    frame, alpha, mask = scene()
    out = run_pass("background", frame, mask, colors=[BACKDROP, BACKDROP], drift=0.0, light_wrap=0.35)
    edge = (alpha > 0.3) & (alpha < 0.95)
    edge[:, 195:] = False
    ceiling = max(luma(PERSON[None, None].astype(np.uint8))[0, 0], luma(NEW_BG[None, None].astype(np.uint8))[0, 0])
    assert luma(out)[edge].mean() <= ceiling + 8, "the old light wall shows through the soft edge"


def test_replace_bg_sliver_of_unsure_mask_shows_the_new_background():
    frame, alpha, mask = scene()
    out = run_pass("background", frame, mask, colors=[BACKDROP, BACKDROP], drift=0.0, light_wrap=0.35)
    sliver = (mask > 0.25) & (mask < 0.35)
    err = np.abs(out[sliver].astype(np.float32) - NEW_BG).max(axis=1)
    assert err.max() <= 6, f"the sofa sliver shows through by {err.max():.0f} levels"


def test_replace_bg_light_wrap_stays_inside_the_person():
    frame, alpha, _ = scene()
    mask = alpha.astype(np.float32)  # no sliver here
    wrapped = run_pass("background", frame, mask, colors=[BACKDROP, BACKDROP], drift=0.0, light_wrap=0.8)
    plain = run_pass("background", frame, mask, colors=[BACKDROP, BACKDROP], drift=0.0, light_wrap=0.0)
    outside = alpha <= 0
    assert np.abs(wrapped[outside].astype(int) - plain[outside]).max() <= 1, "wrap light outside the person"
    depth = cv2.distanceTransform((alpha >= 1).astype(np.uint8), cv2.DIST_L2, 5)
    rim = (alpha >= 1) & (depth < 6)
    moved = np.abs(wrapped[rim].astype(np.float32) - plain[rim]).mean()
    assert moved > 5, "the wrap should tint the person's edge with the new background"


def test_blur_bg_sliver_is_blurred_like_the_background():
    frame, alpha, mask = scene()
    stripes = frame.copy()
    stripes[SLIVER[0], 200:232][::2] = (20, 20, 20)  # sharp detail on the sofa, where the mask is unsure
    out = run_pass("blur", stripes, mask, radius=28)
    sliver = (mask > 0.25) & (mask < 0.35)
    sharp = luma(stripes)[sliver].std()
    assert luma(out)[sliver].std() < 0.15 * sharp, "the sliver of sofa stays sharp in the blurred background"


def test_color_pop_leaves_the_unsure_sliver_grey_and_the_person_in_colour():
    frame, alpha, mask = scene()
    out = EffectRenderer("color-pop").render(frame, mask, 0.0)
    sat = cv2.cvtColor(out, cv2.COLOR_BGR2HSV)[..., 1]
    sliver = (mask > 0.25) & (mask < 0.35)
    assert sat[sliver].max() <= 12, "the sofa sliver keeps its colour"
    assert sat[alpha >= 1].mean() > 80


def test_replace_bg_with_an_image_keeps_its_wrap_inside_the_person(tmp_path):
    frame, alpha, _ = scene()
    mask = alpha.astype(np.float32)
    path = tmp_path / "wall.png"
    cv2.imwrite(str(path), np.full((90, 160, 3), NEW_BG.astype(np.uint8)))
    out = run_pass("background", frame, mask, source="image", image=str(path), light_wrap=0.8)
    outside = ring(alpha, 0.5, 6.0)
    assert np.abs(out[outside].astype(np.float32) - NEW_BG).max() <= 3
    depth = cv2.distanceTransform((alpha >= 1).astype(np.uint8), cv2.DIST_L2, 5)
    rim = (alpha >= 1) & (depth < 6)
    assert np.abs(out[rim].astype(np.float32) - PERSON).mean() > 5  # the wrap tints the edge
