"""Outdoor hard negatives: bushes, flowering shrubs, trunks and bins look like what they are, stay
background in the label, cut it when in front, and change no draw of a recipe that does not ask."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx.training.augment import paste_clutter
from fastvit_fx.training.outdoor_clutter import (BARK_HUES, LEAF_HUES, OUTDOOR_KINDS, outdoor_shape,
                                                 outdoor_thing)


def _scene(seed=5, h=120, w=90):
    return np.random.default_rng(seed).integers(60, 200, (h, w, 3), dtype=np.uint8)


def _hues(texture, matte, min_sat=40):
    hsv = cv2.cvtColor(texture, cv2.COLOR_BGR2HSV)
    inside = (matte > 127) & (hsv[..., 1] >= min_sat) & (hsv[..., 2] >= 20)
    return hsv[..., 0][inside], inside


@pytest.mark.parametrize("kind", OUTDOOR_KINDS)
def test_each_outdoor_shape_is_a_solid_thing_inside_its_box(kind):
    matte = outdoor_shape(kind, 100, 60, np.random.default_rng(1))
    assert matte.shape == (100, 60) and matte.dtype == np.uint8
    assert 0.15 < (matte > 127).mean() < 1.0  # a thing, not the whole box
    n, _ = cv2.connectedComponents((matte > 127).astype(np.uint8))
    assert n - 1 <= 2  # one body (a forked trunk's branch may touch only at its root)


def test_a_trunk_is_taller_than_it_is_wide_and_wider_at_its_foot():
    for seed in range(5):
        matte = outdoor_shape("trunk", 120, 60, np.random.default_rng(seed)) > 127
        foot = matte[-1].sum()
        assert 0 < foot <= 0.6 * 60 + 2
        assert matte[-10:].sum(axis=1).mean() >= matte[55:65].sum(axis=1).mean() - 1


def test_an_unknown_outdoor_thing_is_named():
    with pytest.raises(ValueError, match="'lamppost'"):
        outdoor_shape("lamppost", 10, 10, np.random.default_rng(0))


def test_leaves_are_green_and_bark_is_brown_or_grey():
    crop = _scene()
    leaves, matte = outdoor_thing(crop, np.random.default_rng(2), kind="foliage")
    hues, _ = _hues(leaves, matte)
    assert len(hues) > 0.5 * (matte > 127).sum()
    assert np.mean((hues >= LEAF_HUES[0] - 2) & (hues <= LEAF_HUES[1] + 2)) > 0.9

    bark, matte = outdoor_thing(crop, np.random.default_rng(3), kind="trunk")
    hsv = cv2.cvtColor(bark, cv2.COLOR_BGR2HSV)[matte > 127]
    brown = (hsv[:, 0] >= BARK_HUES[0] - 2) & (hsv[:, 0] <= BARK_HUES[1] + 2)
    grey = hsv[:, 1] < 60
    assert np.mean(brown | grey) > 0.9
    assert np.median(hsv[:, 2]) < 200  # bark is not lit white


def test_flowers_are_blooms_of_another_colour_over_leaves():
    leaves_only, matte = outdoor_thing(_scene(), np.random.default_rng(4), kind="foliage")
    flowers, fmatte = outdoor_thing(_scene(), np.random.default_rng(4), kind="flowers")
    hues, _ = _hues(flowers, fmatte, min_sat=120)
    leafy = (hues >= LEAF_HUES[0] - 2) & (hues <= LEAF_HUES[1] + 2)
    assert 0.02 < np.mean(~leafy) < 0.6  # blooms, on a bush that is mostly leaves
    assert np.array_equal(matte, fmatte)  # the same bush


def test_a_bin_is_one_colour():
    texture, matte = outdoor_thing(_scene(), np.random.default_rng(6), kind="bin")
    pixels = texture[matte > 127].astype(np.float32)
    chroma = pixels - pixels.mean(axis=1, keepdims=True)  # each pixel's colour apart from its brightness
    normalised = chroma / np.maximum(pixels.mean(axis=1, keepdims=True), 1)
    assert normalised.std(axis=0).max() < 0.08


def test_outdoor_clutter_stays_background_behind_and_cuts_the_label_in_front():
    scene = _scene()
    grey = np.full((64, 64, 3), 200, np.uint8)
    behind, label = grey.copy(), np.full((64, 64), 255, np.uint8)
    paste_clutter(behind, label, [scene], np.random.default_rng(3), in_front=False, outdoor_p=1.0)
    assert (label == 255).all()
    pasted = (behind != grey).any(axis=2)
    assert pasted.mean() > 0.05
    hsv = cv2.cvtColor(behind, cv2.COLOR_BGR2HSV)
    dark_furniture = pasted & (hsv[..., 2] < 80)  # what the furniture's tint makes of this scene
    assert dark_furniture.mean() < pasted.mean()  # it is not the dark furniture drawn again

    front, label = grey.copy(), np.full((64, 64), 255, np.uint8)
    paste_clutter(front, label, [scene], np.random.default_rng(3), in_front=True, outdoor_p=1.0)
    covered = (front != grey).any(axis=2)
    assert (label == 0).any()
    assert (label[label == 0] == 0).all() and covered[label == 0].all()  # cut only where the thing is


class CountingRng:
    """A Generator that logs which of its draws were made, in order."""

    def __init__(self, seed):
        self.rng, self.calls = np.random.default_rng(seed), []

    def __getattr__(self, name):
        draw = getattr(self.rng, name)

        def logged(*args, **kwargs):
            self.calls.append(name)
            return draw(*args, **kwargs)
        return logged


def test_outdoor_clutter_off_makes_no_extra_draw():
    # a recipe that asks for no share draws no coin for it, so its samples stay the ones it drew before
    scene = _scene()
    off, asked = CountingRng(3), CountingRng(3)
    canvas = np.full((64, 64, 3), 200, np.uint8)
    paste_clutter(canvas.copy(), np.zeros((64, 64), np.uint8), [scene], off, in_front=False, outdoor_p=0.0)
    paste_clutter(canvas.copy(), np.zeros((64, 64), np.uint8), [scene], asked, in_front=False, outdoor_p=1e-9)
    assert "random" not in off.calls
    assert asked.calls.count("random") >= 1  # the coin is there when asked, and only then
