"""Input size by the people found: the choice itself, and the Segmenter's passes that follow it, with a
stand-in network that calls bright pixels a person and records the input shapes it was given."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx import Segmenter
from fastvit_fx.model import ModelConfig
from fastvit_fx.segment.input_size import InputSizes


class BrightShapes:
    name = "bright-shapes-test"

    def __init__(self, input_hw=None) -> None:
        self.shapes: list[tuple[int, int]] = []
        if input_hw is not None:
            self.input_hw = input_hw

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.shapes.append(x.shape[2:])
        bright = (x[0].mean(axis=0) > 1.0).astype(np.float32)
        h, w = bright.shape
        return cv2.resize(bright, (w // 4, h // 4), interpolation=cv2.INTER_AREA)[None, None]


def frame_with(person, h=480, w=640) -> np.ndarray:
    frame = np.full((h, w, 3), 40, np.uint8)
    if person is not None:
        x0, y0, x1, y1 = person
        frame[y0:y1, x0:x1] = 250
    return frame


TALL = (200, 10, 440, 470)  # nearly the frame's height and wide: no zoom crop
SHORT = (300, 200, 330, 260)  # an eighth of the frame's height


def segmenter(sizes: InputSizes | None = None, **kw) -> tuple[Segmenter, BrightShapes]:
    backend = BrightShapes()
    seg = Segmenter(backend, ModelConfig(), refine=False, **kw)
    if sizes is not None:
        seg.sizes = sizes
    return seg, backend


def test_the_size_follows_the_tallest_person():
    sizes = InputSizes(256, large=320, large_from=0.6, small=224)
    assert sizes.for_tallest(0.9) == 320 and sizes.for_tallest(0.6) == 320
    assert sizes.for_tallest(0.55) == 256
    assert sizes.for_tallest(0.2) == 224
    assert sizes.for_tallest(0.0) == 256 and sizes.for_tallest(None) == 256  # nobody found: the base
    assert InputSizes(256).for_tallest(0.9) == 256 and not InputSizes(256).varies
    assert sizes.varies and not InputSizes(256, large=256).varies


def test_nonsense_sizes_are_refused():
    with pytest.raises(ValueError, match="large=16"):
        InputSizes(256, large=16)
    with pytest.raises(ValueError, match="large_from"):
        InputSizes(256, large=320, large_from=0.0)


def test_a_still_with_a_large_person_gets_a_second_look_at_the_larger_size():
    seg, backend = segmenter(InputSizes(128, large=192, large_from=0.5))
    mask = seg(frame_with(TALL))
    assert [max(s) for s in backend.shapes] == [128, 192]
    assert mask[240, 320] > 0.5 and mask[240, 50] < 0.5
    backend.shapes.clear()
    seg(frame_with(SHORT))  # small: the zoom crop, at the base size
    assert [max(s) for s in backend.shapes][0] == 128 and len(backend.shapes) == 2
    assert seg.last_region is not None


def test_small_people_get_the_small_size_for_the_zoom_crop():
    seg, backend = segmenter(InputSizes(128, small=96))
    seg(frame_with(SHORT))
    assert max(backend.shapes[0]) == 128
    crop = seg.last_region
    assert crop is not None and max(backend.shapes[1]) == 96  # the crop's longest side at the small size


def test_video_pays_one_pass_a_frame_at_the_size_the_previous_frame_called_for():
    seg, backend = segmenter(InputSizes(128, large=192, large_from=0.5), smooth=True, zoom=False)
    for _ in range(3):
        seg(frame_with(TALL))
    assert [max(s) for s in backend.shapes] == [128, 192, 192]  # the first frame knows nobody yet
    seg(frame_with(SHORT))  # they stepped back: this frame still at the large size...
    seg(frame_with(SHORT))  # ...the next one at the base
    assert [max(s) for s in backend.shapes[3:]] == [192, 128]
    seg(frame_with(TALL))
    seg.reset()  # a cut: nothing is known about the next frame's people
    seg(frame_with(TALL))
    assert max(backend.shapes[-1]) == 128


def test_a_size_asked_for_and_a_fixed_input_shape_keep_one_size():
    seg, _ = segmenter(size=192)
    assert not seg.sizes.varies
    fixed = Segmenter(BrightShapes(input_hw=(128, 224)), ModelConfig(), refine=False)
    assert not fixed.sizes.varies


def test_by_default_every_pass_keeps_the_base_size():
    seg, backend = segmenter()
    assert not seg.sizes.varies
    seg(frame_with(SHORT))
    seg(frame_with(TALL))
    assert {max(s) for s in backend.shapes} == {seg.size}  # the zoom crop too
