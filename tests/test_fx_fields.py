"""Shared fields on analytic shapes: a disc's signed distance and normals, motion, sampling."""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx.fx.fields import FieldHistory, Fields, bilinear, signed_distance

H, W = 359, 641


def disc_mask(cx: float, cy: float, r: float, h: int = H, w: int = W) -> np.ndarray:
    """Anti-aliased disc: 1 inside, 0 outside, a one-pixel ramp across the edge."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot(x - cx, y - cy)
    return np.clip(r - d + 0.5, 0.0, 1.0).astype(np.float32)


def fields_for(mask: np.ndarray, history=None, dt=1 / 30) -> Fields:
    frame = np.zeros(mask.shape + (3,), np.uint8)
    return Fields(frame, mask, history or FieldHistory(), dt)


def test_disc_signed_distance_matches_analytic():
    cx, cy, r = 320.3, 180.7, 90.0
    f = fields_for(disc_mask(cx, cy, r))
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    true = np.hypot(x - cx, y - cy) - r
    band = np.abs(true) < 40
    err = np.abs(f.sdf_full - true)[band]
    assert np.median(err) < 1.0
    assert err.max() < 3.0  # grid of 4 px, chamfer distance: about a pixel, never more than 3
    assert f.sdf_full[int(cy), int(cx)] < -80  # deep inside is very negative
    assert f.sdf_full[5, 5] > 100


def test_disc_normals_point_outward():
    cx, cy, r = 320.3, 180.7, 90.0
    f = fields_for(disc_mask(cx, cy, r))
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    for offset in (-12.0, 0.0, 12.0):
        px = cx + (r + offset) * np.cos(angles)
        py = cy + (r + offset) * np.sin(angles)
        nx, ny = f.sample(f.nx, px, py), f.sample(f.ny, px, py)
        cos_err = nx * np.cos(angles) + ny * np.sin(angles)
        assert np.degrees(np.arccos(np.clip(cos_err, -1, 1))).max() < 8.0, offset
        assert np.allclose(np.hypot(nx, ny), 1.0, atol=0.05)


def test_edge_band_peaks_on_the_silhouette():
    cx, cy, r = 320.3, 180.7, 90.0
    f = fields_for(disc_mask(cx, cy, r))
    on = f.sample(f.edge, np.array([cx + r]), np.array([cy]))
    far = f.sample(f.edge, np.array([cx]), np.array([cy]))
    assert on[0] > 0.85 and far[0] == 0.0


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_masks_without_a_boundary(value):
    f = fields_for(np.full((H, W), value, np.float32))
    assert np.all(np.isfinite(f.sdf))
    assert np.all(f.sdf > 0) if value == 0.0 else np.all(f.sdf < 0)
    assert np.all(f.nx == 0) and np.all(f.ny == 0)  # no surface, no normal
    assert f.edge.max() == 0.0


def test_motion_and_surface_speed_follow_a_moving_disc():
    history = FieldHistory()
    first = fields_for(disc_mask(300, 180, 80), history)
    assert first.motion.max() == 0.0 and first.surface_speed.max() == 0.0  # nothing to compare with
    history.update(first)
    second = fields_for(disc_mask(312, 180, 80), history)  # moved 12 px right in 1/30 s
    lead = second.sample(second.motion, np.array([300 + 80 + 6.0]), np.array([180.0]))[0]
    still = second.sample(second.motion, np.array([300.0]), np.array([40.0]))[0]
    assert lead > 0.3 and still < 0.05
    # the leading edge advances at ~12 px / (1/30 s) = 360 px/s along its outward normal
    speed = second.sample(second.surface_speed, np.array([312 + 80.0]), np.array([180.0]))[0]
    assert 200 < speed < 520
    assert second.sample(second.mask_delta, np.array([390.0]), np.array([180.0]))[0] > 0


def test_bilinear_is_exact_on_a_ramp():
    field = np.add.outer(np.arange(10, dtype=np.float32) * 2, np.arange(20, dtype=np.float32) * 3)
    u = np.array([0.0, 3.25, 18.5], np.float32)
    v = np.array([0.0, 4.5, 8.75], np.float32)
    assert np.allclose(bilinear(field, u, v), v * 2 + u * 3, atol=1e-4)


def test_signed_distance_subpixel_from_coverage():
    m = np.zeros((8, 12), np.float32)
    m[:, :4] = 1.0
    m[:, 4] = 0.25  # the edge lies a quarter pixel into column 4: at x = 3.75 (pixel centres at x)
    sdf = signed_distance(m)
    assert np.abs(sdf[4] - (np.arange(12) - 3.75)).max() < 0.3
    assert np.abs(signed_distance(m, sigma=0)[4] - (np.arange(12) - 3.75)).max() < 0.8
