"""Zooming on small people: the crop arithmetic, and the Segmenter's second look (stills) and
carried-over crop (video), with a stand-in network that calls bright pixels a person."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx import Segmenter
from fastvit_fx.model import ModelConfig
from fastvit_fx.segment.zoom import ZoomTracker, person_box, scale_box, zoom_region


class BrightIsPerson:
    """A backend whose 'person' is every bright pixel; it records the inputs it was given."""

    name = "bright-test"

    def __init__(self) -> None:
        self.inputs: list[np.ndarray] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.inputs.append(x.copy())
        bright = (x[0].mean(axis=0) > 1.0).astype(np.float32)  # normalised: well above the mean
        h, w = bright.shape
        return cv2.resize(bright, (w // 4, h // 4), interpolation=cv2.INTER_AREA)[None, None]


def scene(h=720, w=1280, person=(900, 300, 960, 450)) -> np.ndarray:
    frame = np.full((h, w, 3), 40, np.uint8)
    if person is not None:
        x0, y0, x1, y1 = person
        frame[y0:y1, x0:x1] = 250
    return frame


def make_segmenter(**kw) -> tuple[Segmenter, BrightIsPerson]:
    backend = BrightIsPerson()
    return Segmenter(backend, ModelConfig(), size=128, refine=False, **kw), backend


def test_person_box_and_scale_box():
    prob = np.zeros((40, 60), np.float32)
    assert person_box(prob) is None
    prob[10:20, 30:35] = 0.9
    prob[25, 5] = 0.8  # a second person counts too
    assert person_box(prob) == (5, 10, 35, 26)
    assert scale_box((5, 10, 35, 26), (40, 60), (160, 240)) == (20, 40, 140, 104)


def test_zoom_region_grows_the_box_keeps_it_inside_and_declines_without_gain():
    hw = (720, 1280)
    region = zoom_region((900, 300, 960, 450), hw)  # a small person on the right
    x0, y0, x1, y1 = region
    assert x0 < 900 and y0 < 300 and x1 > 960 and y1 > 450  # margin all round
    assert min(x1 - x0, y1 - y0) >= 0.25 * 720 - 1  # no absurd enlargement of a speck
    edge = zoom_region((1250, 680, 1280, 720), hw)  # in the corner: shifted inside, not cut
    assert edge[2] == 1280 and edge[3] == 720 and edge[2] - edge[0] >= 179
    standing = zoom_region((500, 0, 800, 720), hw)  # full height of a 16:9 frame: still 1.7x larger
    assert standing is not None and standing[3] - standing[1] == 720
    assert zoom_region((100, 50, 1200, 700), hw) is None  # fills the frame: nothing to gain


def test_zoom_region_for_a_fixed_input_shape_takes_its_aspect_and_counts_its_gain():
    hw, fixed = (720, 1280), (160, 256)  # Core ML: one 16:9 input
    x0, y0, x1, y1 = zoom_region((900, 300, 960, 450), hw, fixed_hw=fixed)
    assert abs((x1 - x0) / (y1 - y0) - 256 / 160) < 0.02  # widened to the input's aspect
    assert x0 <= 900 and x1 >= 960 and y0 <= 300 and y1 >= 450
    # standing the full height: the 16:9 crop is the whole frame, nothing to gain with a fixed input
    assert zoom_region((500, 0, 800, 720), hw, fixed_hw=fixed) is None
    assert zoom_region((500, 0, 800, 720), hw) is not None  # (a free input shape gains 1.8x)


def test_zoom_region_never_enlarges_the_crop_past_the_cap():
    # a small frame (320x240, as low-resolution footage): a 40x80 px person's crop would be enlarged
    # 2x to reach a 256 px input, blowing up pixels the camera never gave
    hw = (240, 320)
    box = (140, 80, 180, 160)
    free = zoom_region(box, hw)
    assert 256 / max(free[2] - free[0], free[3] - free[1]) >= 2.0
    capped = zoom_region(box, hw, input_size=256, max_upscale=1.5)
    cw, ch = capped[2] - capped[0], capped[3] - capped[1]
    assert 256 / max(cw, ch) <= 1.5 + 0.01  # grown until enlarged at most 1.5x
    assert capped[0] <= box[0] and capped[1] <= box[1] and capped[2] >= box[2] and capped[3] >= box[3]
    # at 1x there is nothing left to gain over the whole frame (256/320 = 0.8x): no zoom
    assert zoom_region(box, hw, input_size=256, max_upscale=1.0) is None
    # a 720p webcam frame: the person across the room still gets the closer look, unchanged
    hw = (720, 1280)
    assert zoom_region((900, 300, 1000, 560), hw, input_size=256, max_upscale=1.0) == \
        zoom_region((900, 300, 1000, 560), hw)
    # a fixed input shape counts its own scale
    fixed = zoom_region(box, (240, 320), fixed_hw=(144, 256), max_upscale=1.5)
    assert fixed is None or min(144 / (fixed[3] - fixed[1]), 256 / (fixed[2] - fixed[0])) <= 1.5 + 0.01


def test_the_tracker_keeps_the_cap_it_was_given():
    hw, box = (240, 320), (140, 80, 180, 160)
    assert ZoomTracker().after_full_look(box, hw) is not None
    capped = ZoomTracker(input_size=256, max_upscale=1.0)
    assert capped.after_full_look(box, hw) is None  # at 1:1 nothing is gained over the whole frame
    mask = np.zeros(hw, np.float32)
    mask[80:160, 140:180] = 1.0
    capped.update(mask)
    assert capped.region is None


def test_still_gets_a_second_look_at_the_small_person():
    seg, backend = make_segmenter()
    frame = scene()
    mask = seg(frame)
    assert len(backend.inputs) == 2 and seg.last_region is not None
    x0, y0, x1, y1 = seg.last_region
    assert x0 <= 900 and y0 <= 300 and x1 >= 960 and y1 >= 450
    # the second look sees the person far larger than the first
    first, second = [(x[0].mean(axis=0) > 1.0).mean() for x in backend.inputs]
    assert second > 4 * first
    truth = np.zeros(frame.shape[:2], bool)
    truth[300:450, 900:960] = True
    iou = ((mask > 0.5) & truth).sum() / ((mask > 0.5) | truth).sum()
    plain, _ = make_segmenter(zoom=False)
    plain_mask = plain(frame)
    plain_iou = ((plain_mask > 0.5) & truth).sum() / ((plain_mask > 0.5) | truth).sum()
    assert iou > 0.9 and iou >= plain_iou


def test_no_second_look_when_nobody_is_there_or_the_person_fills_the_frame():
    seg, backend = make_segmenter()
    seg(scene(person=None))
    assert len(backend.inputs) == 1 and seg.last_region is None
    seg(scene(person=(100, 20, 1200, 700)))
    assert len(backend.inputs) == 2 and seg.last_region is None


def test_video_follows_the_person_with_one_pass_a_frame_and_looks_around_every_few_frames():
    seg, backend = make_segmenter(smooth=True)
    refresh = seg.tracker.refresh
    calls = []
    for i in range(2 * refresh + 2):
        n = len(backend.inputs)
        x = 900 - 8 * i  # walking left, 8 px a frame
        mask = seg(scene(person=(x, 300, x + 60, 450)))
        calls.append(len(backend.inputs) - n)
        assert mask[375, x + 30] > 0.5 and mask[375, min(1279, x + 200)] < 0.5
    assert calls[0] == 2  # first frame: the whole frame, then the crop
    assert calls.count(2) == 3 and calls.count(1) == len(calls) - 3  # a full look every `refresh` frames
    assert calls[refresh] == 2 and calls[2 * refresh] == 2


def test_video_finds_someone_new_at_the_next_full_look_and_starts_over_when_the_person_leaves():
    seg, backend = make_segmenter(smooth=True)
    seg(scene())
    assert seg.tracker.region is not None
    seg(scene(person=None))  # they left: the crop comes back empty...
    assert seg.tracker.region is None
    n = len(backend.inputs)
    mask = seg(scene(person=(100, 300, 160, 450)))  # ...so the next frame is looked at whole
    assert len(backend.inputs) - n == 2 and mask[375, 130] > 0.5
    seg.reset()
    assert seg.tracker.region is None


def test_a_full_look_keeps_the_followed_crop_while_everyone_is_inside_it():
    tracker = ZoomTracker()
    hw = (720, 1280)
    tracker.region = (800, 200, 1100, 600)
    assert tracker.after_full_look((900, 300, 960, 450), hw) == (800, 200, 1100, 600)  # no jump
    assert tracker.after_full_look(None, hw) == (800, 200, 1100, 600)  # the crop itself will tell
    wider = tracker.after_full_look((100, 300, 160, 450), hw)  # someone new on the left
    assert wider is None or (wider[0] <= 100 and wider[2] >= 1100)


def test_tracker_rejects_a_nonsense_refresh():
    with pytest.raises(ValueError, match="refresh"):
        ZoomTracker(refresh=0)


def test_two_tiles_cover_the_frame_with_an_overlap():
    from fastvit_fx.segment.zoom import tile_regions

    assert tile_regions((720, 1280)) == [(0, 0, 768, 720), (512, 0, 1280, 720)]
    assert tile_regions((1000, 600), share=0.5) == [(0, 0, 600, 500), (0, 500, 600, 1000)]
    with pytest.raises(ValueError, match="share"):
        tile_regions((720, 1280), share=0.3)


def test_a_still_of_small_people_spread_wide_gets_a_tiled_look_and_video_never_does():
    spread = scene(person=None)
    spread[300:450, 100:160] = 250  # one small person far left, one far right: no crop holds both with gain
    spread[300:450, 1120:1180] = 250
    seg, backend = make_segmenter()
    assert not seg.tile_small_people  # off by default
    seg(spread)
    assert len(backend.inputs) == 1 and seg.last_region is None  # off: the first look only
    seg.tile_small_people = True
    backend.inputs.clear()
    mask = seg(spread)
    assert len(backend.inputs) == 3  # the first look and the two halves
    assert mask[375, 130] > 0.5 and mask[375, 1150] > 0.5 and mask[200, 640] < 0.5
    small_frame = cv2.resize(spread, (640, 360))  # a small frame (at most 360 tall): no tiles
    backend.inputs.clear()
    seg(small_frame)
    assert len(backend.inputs) == 1
    video, vbackend = make_segmenter(smooth=True)
    video.tile_small_people = True
    for _ in range(3):
        video(spread)
    assert len(vbackend.inputs) == 3  # one look a frame


def test_the_tiled_look_is_held_to_the_first_looks_probability():
    spread = scene(person=None)
    spread[300:450, 100:160] = 250
    spread[300:450, 1120:1180] = 250
    seg, _ = make_segmenter()
    seg.tile_small_people, seg.tile_hold = True, 0.35
    first_only, _ = make_segmenter()
    first = first_only(spread)
    mask = seg(spread)
    assert np.all(np.abs(mask - first) <= 0.35 + 1e-6)  # nowhere further than the hold from the first look
    assert mask[375, 130] > 0.5 and mask[200, 640] < 0.5


class CropPaintsEverything(BrightIsPerson):
    """The whole 640x480 frame (a 256x192 input) gets the bright person; any other input (a crop) is
    all person: two looks that disagree, so a blend of them shows."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        prob = super().__call__(x)
        return prob if x.shape[2:] == (192, 256) else np.ones_like(prob)


def test_a_stills_zoomed_look_is_blended_with_its_first_look_by_its_weight():
    from fastvit_fx.segment.segmenter import blend_looks

    frame = np.full((480, 640, 3), 40, np.uint8)
    frame[200:260, 300:330] = 250  # an eighth of the frame's height: a crop is looked at again
    masks = {}
    for weight in (1.0, 0.3):
        seg = Segmenter(CropPaintsEverything(), ModelConfig(), refine=False)
        seg.still_zoom_blend = weight
        masks[weight] = seg(frame)
        assert seg.last_region is not None
    x0, y0, x1, y1 = seg.last_region
    beside = (y0 + y1) // 2, x0 + (x1 - x0) // 10 + 2  # inside the crop, off the person
    assert masks[1.0][beside] > 0.9  # the crop's look replaces the first
    assert masks[0.3][beside] == pytest.approx(0.3, abs=0.05) and masks[0.3][230, 315] > 0.9
    with pytest.raises(ValueError, match="closer_weight"):
        blend_looks(np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32), 1.5)


def test_video_keeps_the_crops_own_look_whatever_the_still_blend():
    frame = np.full((480, 640, 3), 40, np.uint8)
    frame[200:260, 300:330] = 250
    runs = {}
    for weight in (1.0, 0.3):
        seg = Segmenter(CropPaintsEverything(), ModelConfig(), refine=False, smooth=True)
        seg.still_zoom_blend = weight
        runs[weight] = [seg(frame) for _ in range(4)]
        assert seg.last_region is not None  # the tracked crop was looked at
    for a, b in zip(runs[1.0], runs[0.3]):
        np.testing.assert_array_equal(a, b)


def test_video_looked_at_whole_every_frame_may_blend_and_the_live_tracker_never(monkeypatch):
    import fastvit_fx.segment.segmenter as segmenter_module

    monkeypatch.setattr(segmenter_module, "BLEND_WHEN_EVERY_FRAME_IS_WHOLE", True)
    frame = np.full((480, 640, 3), 40, np.uint8)
    frame[200:260, 300:330] = 250
    firsts = {}
    for refresh in (1, 12):
        seg = Segmenter(CropPaintsEverything(), ModelConfig(), size=256, refine=False, smooth=True)
        seg.still_zoom_blend = 0.3
        seg.tracker.refresh = refresh
        firsts[refresh] = seg(frame), seg.last_region  # the first frame: a full look and the crop
        if refresh == 1:
            later = [(seg(frame), seg.last_region) for _ in range(2)]
    for mask, (x0, y0, x1, y1) in [firsts[1]] + later:
        assert mask[(y0 + y1) // 2, x0 + (x1 - x0) // 10 + 2] == pytest.approx(0.3, abs=0.05)  # blended
    mask, (x0, y0, x1, y1) = firsts[12]
    assert mask[(y0 + y1) // 2, x0 + (x1 - x0) // 10 + 2] > 0.9  # live: the crop's look alone, never blended
