"""Blend modes and matte compositing on known values."""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx.fx.blend import MODES, apply_mode, blend, composite, mix


def img(value, shape=(4, 5)) -> np.ndarray:
    return np.full(shape + (3,), value, np.uint8)


@pytest.mark.parametrize("mode,a,b,expected", [
    ("normal", 10, 200, 200),
    ("add", 100, 50, 150),
    ("add", 200, 100, 255),  # saturates
    ("screen", 128, 128, 192),  # 255 - 127 * 127 / 255
    ("screen", 0, 77, 77),
    ("screen", 255, 3, 255),
    ("multiply", 128, 128, 64),
    ("multiply", 255, 77, 77),
    ("multiply", 0, 200, 0),
])
def test_modes_on_known_values(mode, a, b, expected):
    out = apply_mode(img(a), img(b), mode)
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_mix_with_a_matte():
    a, b = img(0), img(200)
    matte = np.array([[0, 255, 128, 64, 191]] * 4, np.uint8)
    out = mix(a, b, matte)[..., 0]
    assert out[0, 0] == 0 and out[0, 1] == 200
    assert np.abs(out[0, 2:].astype(int) - np.round(200 * np.array([128, 64, 191]) / 255)).max() <= 1


def test_composite_puts_person_over_background():
    fg, bg = img(250), img(10)
    matte = np.zeros((4, 5), np.uint8)
    matte[:, :2] = 255
    out = composite(fg, bg, matte)
    assert (out[:, :2] == 250).all() and (out[:, 2:] == 10).all()


@pytest.mark.parametrize("mode", MODES)
def test_blend_opacity_and_inputs_untouched(mode):
    base, layer = img(100), img(180)
    keep_base, keep_layer = base.copy(), layer.copy()
    assert (blend(base, layer, mode, opacity=0.0) == base).all()
    full = blend(base, layer, mode)
    half = blend(base, layer, mode, opacity=0.5).astype(int)
    expect = (base.astype(int) + full.astype(int)) / 2
    assert np.abs(half - expect).max() <= 2
    matte = np.zeros((4, 5), np.uint8)
    matte[0] = 255
    masked = blend(base, layer, mode, matte=matte)
    assert (masked[0] == full[0]).all() and (masked[1:] == base[1:]).all()
    assert (base == keep_base).all() and (layer == keep_layer).all()


def test_unknown_mode_and_shape_mismatch():
    with pytest.raises(ValueError, match="overlay"):
        apply_mode(img(1), img(2), "overlay")
    with pytest.raises(ValueError):
        blend(img(1), img(2, (3, 3)))
