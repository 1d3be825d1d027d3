"""Input size by the people found: the choice itself, and the Segmenter's passes that follow it, with a
stand-in network that calls bright pixels a person and records the input shapes it was given."""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from fastvit_fx import Segmenter
from fastvit_fx.model import ModelConfig
from fastvit_fx.segment.input_size import (LARGE_PEOPLE_FROM, LARGE_PEOPLE_SIZE, SMALL_PEOPLE_SIZE, InputSizes,
                                           LargeSizeGate)


class BrightShapes:
    name = "bright-shapes-test"

    def __init__(self, input_hw=None, sleep_s_at=None) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.sleep_s_at = sleep_s_at or {}  # longest side -> seconds each pass at it takes (a slow machine)
        if input_hw is not None:
            self.input_hw = input_hw

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.shapes.append(x.shape[2:])
        time.sleep(self.sleep_s_at.get(max(x.shape[2:]), 0.0))
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


def test_by_default_the_segmenter_takes_the_apps_sizes():
    seg, backend = segmenter()
    assert (seg.sizes.large, seg.sizes.small) == (LARGE_PEOPLE_SIZE, SMALL_PEOPLE_SIZE)
    assert seg.sizes.large_from == LARGE_PEOPLE_FROM
    seg(frame_with(SHORT))
    assert {max(s) for s in backend.shapes} == {SMALL_PEOPLE_SIZE or seg.size}  # the zoom crop too
    backend.shapes.clear()
    seg(frame_with(TALL))
    assert [max(s) for s in backend.shapes] == [seg.size] + ([LARGE_PEOPLE_SIZE] if LARGE_PEOPLE_SIZE else [])


def test_video_keeps_the_large_size_down_to_the_band_under_the_threshold():
    sizes = InputSizes(256, large=320, large_from=0.7, large_keep_band=0.05)
    assert sizes.for_tallest(0.67) == 256  # under the threshold and not large yet: the base
    assert sizes.for_tallest(0.67, current=320) == 320  # already large: kept inside the band
    assert sizes.for_tallest(0.64, current=320) == 256


def test_the_gate_closes_when_large_calls_miss_the_frame_budget_and_retries_later():
    gate = LargeSizeGate(share=0.8, window=5, retry_s=1.0)
    assert gate.budget_ms(1 / 30) == pytest.approx(26.67, abs=0.01)
    assert gate.budget_ms(0.5) == gate.budget_ms(1 / 30)  # skipped camera frames earn no looser budget
    for _ in range(10):
        gate.record(20.0, large=True, interval_s=1 / 30)  # inside 0.8 of a 30 fps frame
    assert gate.open and gate.closures == 0
    gate.record(40.0, large=True, interval_s=1 / 30)
    gate.record(40.0, large=True, interval_s=1 / 30)
    assert gate.open  # two slow calls of five: the median still fits
    gate.record(40.0, large=True, interval_s=1 / 30)
    assert not gate.open and gate.closures == 1
    for _ in range(29):  # just under a second of stream at 30 fps
        gate.record(10.0, large=False, interval_s=1 / 30)
    assert not gate.open
    gate.record(10.0, large=False, interval_s=1 / 30)
    gate.record(10.0, large=False, interval_s=1 / 30)
    assert gate.open  # measured afresh: one slow call alone does not close it again
    gate.record(40.0, large=True, interval_s=1 / 30)
    assert gate.open


def test_the_gate_ignores_calls_at_the_base_size():
    gate = LargeSizeGate(window=3)
    for _ in range(20):
        gate.record(500.0, large=False, interval_s=1 / 30)
    assert gate.open


def test_nonsense_gate_settings_are_refused():
    with pytest.raises(ValueError, match="share"):
        LargeSizeGate(share=0.0)


def test_a_slow_machine_falls_back_to_the_base_size_in_video_and_stills_keep_the_large_size():
    sizes = InputSizes(128, large=192, large_from=0.5)
    seg, backend = segmenter(sizes, smooth=True, zoom=False)
    backend.sleep_s_at = {192: 0.06}  # the large pass alone takes longer than a 30 fps frame
    for _ in range(8):
        seg(frame_with(TALL), interval_s=1 / 30)
    sides = [max(s) for s in backend.shapes]
    assert sides[:4] == [128, 192, 192, 192]  # measured three times before it is judged
    assert set(sides[4:]) == {128} and seg.large_size_gate.closures == 1
    still, still_backend = segmenter(sizes)
    still_backend.sleep_s_at = {192: 0.06}
    still(frame_with(TALL))
    assert [max(s) for s in still_backend.shapes] == [128, 192]  # no camera to keep up with


def test_a_fast_machine_keeps_the_large_size_in_video():
    seg, backend = segmenter(InputSizes(128, large=192, large_from=0.5), smooth=True, zoom=False)
    for _ in range(8):
        seg(frame_with(TALL), interval_s=1 / 30)
    assert [max(s) for s in backend.shapes] == [128] + [192] * 7 and seg.large_size_gate.open
    assert seg.last_size == 192
