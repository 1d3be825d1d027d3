"""No hard crop borders in a zoomed mask: the crop's mask is feathered into the full view.

The stand-in network calls a small blob a person when it sees the whole frame, and everything a
person when it sees the crop (a crop filled with a sofa the network mistakes for a person): pasted
as it is, the crop would stay in the mask as a rectangle jumping from 1 to 0 across one pixel.
"""
from __future__ import annotations

import numpy as np
import pytest

from fastvit_fx import Segmenter
from fastvit_fx.model import ModelConfig
from fastvit_fx.segment.zoom import paste_feathered

FRAME_HW = (720, 1280)
BLOB = (880, 300, 960, 450)  # where the full look finds the person (frame pixels)


class CropIsAllPerson:
    """Full frame (16:9 letterbox): a person only inside BLOB. Any other input (a crop): all person."""

    name = "crop-all-person"

    def __init__(self, full_input_hw: tuple[int, int]) -> None:
        self.full_input_hw = full_input_hw
        self.calls = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        h, w = x.shape[2:]
        out = np.ones((1, 1, h // 4, w // 4), np.float32)
        if (h, w) == self.full_input_hw:  # the whole frame, scaled by 1/5 and placed top-left
            out[:] = 0.0
            x0, y0, x1, y1 = (v // 20 for v in BLOB)  # frame pixels -> stride-4 map of the input
            out[0, 0, y0:y1, x0:x1] = 1.0
        return out


def make_segmenter(**kw) -> Segmenter:
    # size 256: a 1280x720 frame letterboxes to 256x144, padded to 256x160
    backend = CropIsAllPerson(full_input_hw=(160, 256))
    return Segmenter(backend, ModelConfig(), size=256, refine=False, **kw)


def border_steps(mask: np.ndarray, region) -> float:
    """The largest change of the mask between neighbouring pixels across any side of `region`."""
    x0, y0, x1, y1 = region
    h, w = mask.shape
    steps = [0.0]
    rows, cols = slice(y0, y1), slice(x0, x1)
    if x0 > 0:
        steps.append(np.abs(mask[rows, x0] - mask[rows, x0 - 1]).max())
    if x1 < w:
        steps.append(np.abs(mask[rows, x1] - mask[rows, x1 - 1]).max())
    if y0 > 0:
        steps.append(np.abs(mask[y0, cols] - mask[y0 - 1, cols]).max())
    if y1 < h:
        steps.append(np.abs(mask[y1, cols] - mask[y1 - 1, cols]).max())
    return float(max(steps))


def test_paste_feathered_ramps_inside_the_crop_and_keeps_its_middle():
    mask = np.zeros((100, 200), np.float32)
    crop = np.ones((40, 60), np.float32)
    region = (50, 30, 110, 70)
    paste_feathered(mask, crop, region, feather=0.25)  # a 10 px band
    assert border_steps(mask, region) <= 1 / 10 + 1e-6
    assert (mask[40:60, 60:100] == 1.0).all()  # beyond the band the crop's mask is kept as it is
    assert (mask[:30] == 0).all() and (mask[:, :50] == 0).all()  # outside untouched
    # steps inside the band stay small too: a ramp, not a step moved inwards
    assert np.abs(np.diff(mask, axis=1)).max() <= 1 / 10 + 1e-6
    assert np.abs(np.diff(mask, axis=0)).max() <= 1 / 10 + 1e-6


def test_paste_feathered_does_not_fade_at_the_frame_border():
    mask = np.zeros((100, 200), np.float32)
    paste_feathered(mask, np.ones((60, 80), np.float32), (120, 40, 200, 100), feather=0.25)
    assert (mask[-1, 140:200] == 1.0).all() and (mask[60:100, -1] == 1.0).all()  # bottom, right: the frame's
    assert mask[70, 120] < 0.1  # the left side, inside the frame, fades


def test_paste_feathered_rejects_a_crop_of_the_wrong_size():
    with pytest.raises(ValueError, match="does not match"):
        paste_feathered(np.zeros((10, 10), np.float32), np.ones((3, 3), np.float32), (0, 0, 4, 4))


@pytest.mark.parametrize("smooth", [False, True], ids=["still", "video"])
def test_a_zoomed_mask_has_no_hard_crop_border(smooth):
    seg = make_segmenter(smooth=smooth)
    frame = np.full((*FRAME_HW, 3), 90, np.uint8)
    for i in range(4 if smooth else 1):  # video: later frames segment only the tracked crop
        mask = seg(frame)
        region = seg.last_region
        assert region is not None, "the stand-in person is small: the segmenter should zoom"
        x0, y0, x1, y1 = region
        band = max(2.0, 0.1 * min(x1 - x0, y1 - y0))
        assert border_steps(mask, region) <= 1.0 / band + 1e-4
        # the crop still counts: its middle is the crop's verdict (all person), not the full view's
        assert mask[(y0 + y1) // 2, (x0 + x1) // 2] > 0.99
        if i == 0:  # later, the tracked crop grows on a still frame: the smoother fades in what it newly claims
            # beyond the band: the crop's verdict, or for a still its blend with the first look's 0
            crop_share = 1.0 if smooth else seg.still_zoom_blend
            assert mask[(y0 + y1) // 2, x0 + int(band) + 2] == pytest.approx(crop_share, abs=0.01)
