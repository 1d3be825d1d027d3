"""Segmenter: shape, range, dtype on odd frames; letterboxing; refinement; temporal smoothing."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx import Segmenter, open_segmenter
from fastvit_fx.model import WeightsError
from fastvit_fx.segment.letterbox import crop_valid, letterbox_shape, to_network_input
from fastvit_fx.segment.refine import TemporalSmoother, apply_size, frame_motion, guided_upsample, motion_image


@pytest.fixture(scope="module")
def segmenter(weights_file):
    return open_segmenter(weights_file, backend="torch", device="cpu")


@pytest.mark.parametrize("hw", [(359, 641), (641, 359), (720, 1280), (31, 17), (256, 256)])
def test_output_shape_range_dtype(segmenter, hw):
    frame = np.random.default_rng(0).integers(0, 255, (*hw, 3), dtype=np.uint8)
    mask = segmenter(frame)
    assert mask.shape == hw and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0


def test_rejects_non_bgr(segmenter):
    with pytest.raises(ValueError, match="uint8 BGR"):
        segmenter(np.zeros((10, 10), np.uint8))


def test_missing_weights_is_one_line(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        open_segmenter(tmp_path / "missing.safetensors")


def test_letterbox_pads_not_stretches():
    box = letterbox_shape(720, 1280, 256)
    assert (box.h, box.w) == (144, 256) and (box.in_h, box.in_w) == (160, 256)
    portrait = letterbox_shape(641, 359, 256)
    assert portrait.h == 256 and portrait.in_h % 32 == 0 and portrait.in_w % 32 == 0
    assert abs(portrait.w / portrait.h - 359 / 641) < 0.01  # aspect kept
    fixed = letterbox_shape(720, 1280, 256, fixed=(256, 256))
    assert (fixed.in_h, fixed.in_w, fixed.w) == (256, 256, 256) and fixed.h == 144


def test_padding_normalises_to_zero_and_crop_removes_it():
    frame = np.full((90, 160, 3), 200, np.uint8)
    box = letterbox_shape(90, 160, 64)
    x = to_network_input(frame, box, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert x.shape == (1, 3, box.in_h, box.in_w)
    assert np.all(x[0, :, box.h:, :] == 0)  # padding rows
    assert np.all(x[0, :, : box.h, : box.w] > 0)
    low = np.ones((1, 1, box.in_h // 4, box.in_w // 4), np.float32)
    assert crop_valid(low, box).shape[-2:] == (round(box.h / 4), round(box.w / 4))


def test_guided_upsample_puts_the_edge_where_the_frame_has_it():
    import cv2

    h, w = 360, 640
    frame = np.full((h, w, 3), 60, np.uint8)
    cv2.circle(frame, (320, 200), 125, (200, 180, 170), -1)
    truth = np.zeros((h, w), np.float32)
    cv2.circle(truth, (320, 200), 125, 1.0, -1)
    low = cv2.resize(truth, (32, 18), interpolation=cv2.INTER_AREA)  # the network's coarse view
    plain = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    refined = guided_upsample(low, frame)
    wrong = lambda m: ((m > 0.5) != (truth > 0.5)).mean()  # noqa: E731
    assert wrong(plain) > 0.001  # bilinear upsampling alone misplaces the edge
    assert wrong(refined) < 0.5 * wrong(plain)
    assert refined.shape == (h, w) and refined.dtype == np.float32


def test_a_small_person_the_network_is_sure_of_survives_the_guided_filter():
    import cv2

    h, w = 360, 480  # a street frame: the fit's windows (about 36 px) are wider than the person
    frame = np.random.default_rng(0).integers(80, 160, (h, w, 3), dtype=np.uint8)
    frame[160:200, 234:246] = 120  # 40 px tall, 12 wide, the street's own mean colour
    truth = np.zeros((h, w), np.float32)
    truth[160:200, 234:246] = 1.0
    low = np.clip(cv2.resize(truth, (120, 90), interpolation=cv2.INTER_AREA) * 1.6, 0, 1)  # sure of them
    found = lambda m: ((m > 0.5) & (truth > 0)).sum() / truth.sum()  # noqa: E731
    assert found(guided_upsample(low, frame, hold=None)) < 0.1  # the free fit fades them into the street
    held = guided_upsample(low, frame)
    assert found(held) > 0.6
    # and where the network is sure there is nobody, the guide cannot paint anyone
    far = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR) == 0
    assert held[far].max() <= 0.35 + 1e-6


def test_tallest_person_reads_the_tallest_region_of_the_map():
    from fastvit_fx.segment.refine import tallest_person

    prob = np.zeros((48, 64), np.float32)
    assert tallest_person(prob) == 0.0
    prob[10:22, 5:9] = 0.9  # 12 rows
    prob[30:36, 40:60] = 0.8  # wider, but 6 rows
    prob[0:40, 30] = 0.4  # tall, but under the threshold
    assert tallest_person(prob) == pytest.approx(12 / 48)


@pytest.mark.parametrize("hw, person, fine", [
    ((360, 480), (220, 150, 240, 210), True),  # a pedestrian in a small frame: the finer fit
    ((360, 480), (200, 40, 280, 330), False),  # someone taller than half the frame: the coarse fit
    ((720, 1280), (900, 300, 960, 450), False),  # a 720p frame keeps the coarse fit (its cost)
])
def test_the_guided_fit_is_finer_only_for_small_people_in_small_frames(monkeypatch, hw, person, fine):
    import fastvit_fx.segment.segmenter as segmenter_module
    from fastvit_fx.model import ModelConfig
    from fastvit_fx.segment.refine import FINE_WORK_SCALE, WORK_SCALE
    from test_zoom import BrightIsPerson, scene

    scales = []
    real = segmenter_module.guided_upsample
    monkeypatch.setattr(segmenter_module, "guided_upsample",
                        lambda *a, **k: scales.append(k["work_scale"]) or real(*a, **k))
    seg = Segmenter(BrightIsPerson(), ModelConfig(), size=128, zoom=False)
    mask = seg(scene(*hw, person=person))
    assert scales == [FINE_WORK_SCALE if fine else WORK_SCALE]
    x0, y0, x1, y1 = person
    assert mask[(y0 + y1) // 2, (x0 + x1) // 2] > 0.5


class UnsureBackend:
    """A network barely sure of anything: 0.55 on bright pixels (the person), 0.45 elsewhere (haze)."""

    name = "unsure-test"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        bright = (x[0].mean(axis=0) > 1.0).astype(np.float32)
        h, w = bright.shape
        low = cv2.resize(bright, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        return (0.45 + 0.1 * low)[None, None]


@pytest.mark.parametrize("person, small", [
    ((210, 140, 250, 220), True),  # a pedestrian: shown solid, the haze around them cleared
    ((200, 40, 280, 330), False),  # someone taller than half the frame: the soft stretch, edges kept soft
])
def test_small_people_the_network_is_unsure_of_are_shown_solid(person, small):
    from fastvit_fx.model import ModelConfig
    from fastvit_fx.segment.refine import MASK_STRETCH
    from test_zoom import scene

    frame = scene(360, 480, person=person)
    seg = Segmenter(UnsureBackend(), ModelConfig(), size=128, zoom=False)
    mask = seg(frame)
    seg.small_people_stretch = MASK_STRETCH
    soft = seg(frame)
    x0, y0, x1, y1 = person
    inside, outside = mask[(y0 + y1) // 2, (x0 + x1) // 2], mask[20, 20]
    if small:
        assert inside > 0.85 and outside < 0.15  # against 0.6 and 0.4 with the soft stretch
        assert soft[(y0 + y1) // 2, (x0 + x1) // 2] < 0.7 and soft[20, 20] > 0.3
    else:
        np.testing.assert_array_equal(mask, soft)
    np.testing.assert_array_equal(mask > 0.5, soft > 0.5)  # the thresholded mask does not move


def test_colour_guide_finds_an_edge_that_grey_cannot_see():
    import cv2

    h, w = 360, 640
    red, green = (40, 40, 200), (40, 121, 40)  # BGR; both grey 88
    grey_of = cv2.cvtColor(np.uint8([[red, green]]), cv2.COLOR_BGR2GRAY)[0].astype(int)
    assert abs(grey_of[0] - grey_of[1]) <= 2
    frame = np.empty((h, w, 3), np.uint8)
    frame[:] = green
    cv2.rectangle(frame, (200, 60), (440, 360), red, -1)  # red trousers on grass, one grey
    truth = np.zeros((h, w), np.float32)
    truth[60:, 200:441] = 1.0
    low = cv2.resize(truth, (32, 18), interpolation=cv2.INTER_AREA)
    wrong = lambda m: ((m > 0.5) != (truth > 0.5)).mean()  # noqa: E731
    grey = guided_upsample(low, frame, color=False)
    colour = guided_upsample(low, frame)
    assert wrong(colour) < 0.5 * wrong(grey)
    assert colour.shape == (h, w) and colour.dtype == np.float32 and 0 <= colour.min() and colour.max() <= 1


def test_mask_stretch_flattens_texture_inside_and_keeps_the_threshold():
    import cv2

    h, w = 360, 640
    rng = np.random.default_rng(0)
    frame = np.full((h, w, 3), 60, np.uint8)
    cv2.circle(frame, (320, 200), 125, (200, 180, 170), -1)
    dots = (rng.random((h, w)) < 0.02) & (cv2.circle(np.zeros((h, w), np.uint8), (320, 200), 110, 1, -1) > 0)
    frame[cv2.dilate(dots.astype(np.uint8), np.ones((7, 7))) > 0] = (20, 20, 20)  # dark polka dots
    truth = np.zeros((h, w), np.float32)
    cv2.circle(truth, (320, 200), 125, 1.0, -1)
    low = cv2.resize(truth, (32, 18), interpolation=cv2.INTER_AREA)
    raw = guided_upsample(low, frame, stretch=None)
    solid = guided_upsample(low, frame)
    inside = cv2.erode(truth, np.ones((31, 31))) > 0
    assert (raw[inside] < 0.9).mean() > 0.01  # the raw fit carries the dots into the mask
    assert (solid[inside] < 0.9).mean() < 0.25 * (raw[inside] < 0.9).mean()
    # the threshold is the same up to the final upsizing's rounding at the edge
    assert ((solid > 0.5) != (raw > 0.5)).mean() < 0.001


def test_guided_upsample_reuses_a_given_downscale_and_ignores_a_wrong_one():
    import cv2

    rng = np.random.default_rng(3)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (180, 320, 3), dtype=np.uint8), (0, 0), 2)
    low = rng.random((12, 20)).astype(np.float32)
    half = cv2.resize(frame, apply_size(180, 320), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(guided_upsample(low, frame, frame_at_apply=half), guided_upsample(low, frame))
    dark = np.zeros_like(half)  # a different image of the right size is used as given...
    assert not np.array_equal(guided_upsample(low, frame, frame_at_apply=dark), guided_upsample(low, frame))
    wrong_size = np.zeros((10, 10, 3), np.uint8)  # ...one of the wrong size is not
    np.testing.assert_array_equal(guided_upsample(low, frame, frame_at_apply=wrong_size), guided_upsample(low, frame))


def test_temporal_smoother_damps_flicker_but_follows_motion():
    smoother = TemporalSmoother(strength=0.6, motion_threshold=0.25)
    base = np.zeros((10, 10), np.float32)
    smoother(base)
    flicker = smoother(base + 0.05)  # small change: mostly averaged away
    assert flicker.max() < 0.03
    moved = base.copy()
    moved[:, :5] = 1.0  # a hand moved in: follows at once, no trailing
    out = smoother(moved)
    assert out[:, :5].min() > 0.99 and out[:, 5:].max() < 0.05


def _scene(hand_at: int | None, seed: int) -> np.ndarray:
    """A still, textured 160x240 scene with sensor noise; a bright hand at column hand_at."""
    rng = np.random.default_rng(seed)
    frame = np.tile(np.linspace(40, 200, 240, dtype=np.float32), (160, 1))[..., None].repeat(3, axis=2)
    if hand_at is not None:
        frame[40:120, hand_at:hand_at + 40] = 250
    frame += rng.normal(0, 1.5, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_frame_motion_ignores_sensor_noise_and_sees_a_moving_hand():
    still = frame_motion(motion_image(_scene(None, 0)), motion_image(_scene(None, 1)))
    assert still.max() == 0.0  # noise alone is not motion
    moved = frame_motion(motion_image(_scene(40, 0)), motion_image(_scene(120, 1)))
    assert moved[10:30, 10:20].min() == 1.0  # where the hand left (quarter scale)
    assert moved[10:30, 30:40].min() == 1.0  # and where it arrived
    assert moved[:5].max() == 0.0  # the rest of the scene is still


def test_frame_motion_sees_a_change_of_colour_at_the_same_grey():
    green = np.zeros((160, 240, 3), np.uint8)
    green[...] = (0, 160, 0)
    grey = np.full_like(green, int(cv2.cvtColor(green[:1, :1], cv2.COLOR_BGR2GRAY)[0, 0]))
    assert frame_motion(motion_image(green), motion_image(grey)).min() == 1.0


def test_temporal_smoother_damps_a_mask_jump_where_the_frame_is_still():
    # the network flips a patch on a still scene: the mask-only gate would pass a jump this big
    smoother = TemporalSmoother()
    base = np.zeros((160, 240), np.float32)
    smoother(base, _scene(None, 0))
    flipped = base.copy()
    flipped[60:100, 100:140] = 0.6
    out = smoother(flipped, _scene(None, 1))
    assert out[60:100, 100:140].max() < 0.3
    masks_only = TemporalSmoother()
    masks_only(base)
    assert masks_only(flipped)[60:100, 100:140].min() > 0.59


def test_temporal_smoother_follows_a_moving_hand_at_once():
    smoother = TemporalSmoother()
    before = np.zeros((160, 240), np.float32)
    before[40:120, 40:80] = 1.0
    smoother(before, _scene(40, 0))
    after = np.zeros((160, 240), np.float32)
    after[40:120, 120:160] = 1.0
    out = smoother(after, _scene(120, 1))
    assert out[44:116, 124:156].min() > 0.99  # the hand's new place, at once
    assert out[44:116, 44:76].max() < 0.01  # no ghost where it was


def test_temporal_smoother_keeps_up_with_a_dim_hand():
    # a dim hand (12 levels over the wall) moving 4 px a frame changes each frame by less than the
    # noise floor at the quarter size; against the remembered frame the change adds up, so the mask
    # does not trail behind it
    def frame(at):
        f = np.full((160, 240, 3), 100, np.uint8)
        f[40:120, at:at + 40] = 112
        return f
    smoother = TemporalSmoother()
    for at in range(40, 120, 4):
        truth = np.zeros((160, 240), np.float32)
        truth[40:120, at:at + 40] = 1.0
        out = smoother(truth, frame(at))
    row = out[80] > 0.5
    assert row[:at].sum() <= 1  # behind the hand: let go (comparing frame to frame, 4 px trail)
    assert row[at:at + 40].all()  # the hand


def test_segmenter_gives_its_smoother_the_frame_and_the_interval(weights_file):
    seg = open_segmenter(weights_file, backend="torch", device="cpu", smooth=True, zoom=False)
    seen = []
    seg.smoother = lambda mask, frame=None, interval_s=None: seen.append((frame, interval_s)) or mask
    frame = _scene(40, 0)
    seg(frame)
    seg(frame, interval_s=0.05)
    assert len(seen) == 2 and seen[0][0] is frame
    assert [interval for _, interval in seen] == [None, 0.05]


def _blend_of_a_small_change(interval_s):
    """How much of a 0.02 step the smoother passes, on a still scene, this long after the last frame."""
    smoother = TemporalSmoother()
    still = _scene(None, 0)
    smoother(np.full((40, 60), 0.5, np.float32), still)
    out = smoother(np.full((40, 60), 0.52, np.float32), still, interval_s=interval_s)
    return float((out.mean() - 0.5) / 0.02)


def test_temporal_smoother_blends_per_second_not_per_frame():
    from fastvit_fx.segment.refine import REFERENCE_INTERVAL_S, SMOOTH_STRENGTH

    # the weight of the new mask where the frame did not move: 1 - s
    passed = lambda s: 1 - s  # noqa: E731
    assert _blend_of_a_small_change(None) == pytest.approx(passed(SMOOTH_STRENGTH), abs=1e-4)
    # at the rate the strength was judged at, nothing changes
    assert _blend_of_a_small_change(REFERENCE_INTERVAL_S) == pytest.approx(passed(SMOOTH_STRENGTH), abs=1e-4)
    # a segmenter at half the camera's rate blends the running mask twice as hard per step, not once
    assert _blend_of_a_small_change(2 * REFERENCE_INTERVAL_S) == pytest.approx(passed(SMOOTH_STRENGTH ** 2), abs=1e-4)
    # one frame a second (a street clip): the new mask as it is, nothing held from a second ago
    assert _blend_of_a_small_change(1.0) == pytest.approx(1.0, abs=1e-4)


def test_a_long_gap_drops_the_tracked_crop(weights_file):
    seg = open_segmenter(weights_file, backend="torch", device="cpu", smooth=True, zoom=True)
    resets = []
    reset = seg.tracker.reset
    seg.tracker.reset = lambda: resets.append(1) or reset()
    frame = _scene(40, 0)
    seg(frame, interval_s=1 / 30)
    seg(frame, interval_s=0.1)
    assert not resets
    seg(frame, interval_s=1.0)  # a stall: the person may be anywhere now
    assert resets == [1]


def test_smoothing_segmenter_resets(weights_file):
    seg = open_segmenter(weights_file, backend="torch", device="cpu", smooth=True)
    frame = np.random.default_rng(1).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    first = seg(frame)
    seg.reset()
    again = seg(frame)
    np.testing.assert_allclose(first, again, atol=1e-6)


def test_refine_bench_times_each_upsampling_against_grey():
    from fastvit_fx.bench.refine import bench_refine

    rows = bench_refine(frame_hw=(72, 128), size=64, repeats=3)
    assert [r["upsampling"] for r in rows] == ["bilinear", "guided, grey", "guided, colour, unheld",
                                              "guided, colour, held (default)", "the same, finer (small people)"]
    assert all(r["ms"] > 0 for r in rows) and rows[1]["x grey"] == pytest.approx(1.0)



class LeftLeaningBackend:
    """A network that sees the bright person and also paints the left quarter of its input: a bias a
    mirrored second look should halve. Counts its passes."""

    name = "left-leaning-test"

    def __init__(self, lean: float = 0.8) -> None:
        self.passes = 0
        self.lean = lean

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.passes += 1
        bright = (x[0].mean(axis=0) > 1.0).astype(np.float32)
        h, w = bright.shape
        low = cv2.resize(bright, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        low[:, : low.shape[1] // 4] = np.maximum(low[:, : low.shape[1] // 4], self.lean)
        return low[None, None]


def test_flip_average_looks_at_the_mirrored_frame_and_halves_a_one_sided_bias():
    from fastvit_fx.model import ModelConfig
    from test_zoom import scene

    frame = scene(256, 256, person=(100, 60, 156, 250))
    backend = LeftLeaningBackend()
    seg = Segmenter(backend, ModelConfig(), size=256, zoom=False, refine=False)
    plain = seg(frame)
    assert backend.passes == 1
    seg.flip_average = True
    averaged = seg(frame)
    assert backend.passes == 3
    # the left quarter's false paint is halved and now shows on the right quarter as well
    assert plain[:40, :56].min() >= 0.8 and plain[:40, -56:].max() < 0.5
    np.testing.assert_allclose(averaged[:40, :56], 0.4, atol=1e-6)
    np.testing.assert_allclose(averaged[:40, -56:], 0.4, atol=1e-6)
    # the person, found by both looks, stays where it is
    assert averaged[150, 128] == pytest.approx(plain[150, 128])


def test_flip_average_changes_nothing_for_a_mirror_symmetric_network():
    from fastvit_fx.model import ModelConfig
    from test_zoom import scene

    frame = scene(240, 320, person=(60, 40, 110, 230))  # off-centre: a misaligned mirror would move it
    seg = Segmenter(UnsureBackend(), ModelConfig(), size=320, zoom=False)
    plain = seg(frame)
    seg.flip_average = True
    np.testing.assert_allclose(seg(frame), plain, atol=1e-5)


@pytest.mark.parametrize("person, band, passes", [
    ((120, 100, 140, 190), (0.25, 0.7), 2),  # 0.35 of the frame's height: its look mirrored as well
    ((120, 100, 140, 130), (0.25, 0.7), 1),  # 0.12: small people keep one look
    ((120, 10, 140, 250), (0.25, 0.7), 1),  # 0.94: past the band
    ((120, 10, 140, 250), None, 1),  # no band: never
])
def test_flip_people_mirrors_only_stills_whose_first_look_finds_people_in_the_band(person, band, passes):
    from fastvit_fx.model import ModelConfig
    from test_zoom import scene

    backend = LeftLeaningBackend(lean=0.0)  # sees the bright person only
    seg = Segmenter(backend, ModelConfig(), size=256, zoom=False, refine=False)
    seg.flip_people = band
    seg(scene(256, 256, person=person))
    assert backend.passes == passes


def test_video_never_takes_the_mirrored_look_by_the_people_found():
    from fastvit_fx.model import ModelConfig
    from test_zoom import scene

    backend = LeftLeaningBackend(lean=0.0)
    seg = Segmenter(backend, ModelConfig(), size=256, zoom=False, refine=False, smooth=True)
    seg.flip_people = (0.25, 0.7)
    for _ in range(3):
        seg(scene(256, 256, person=(120, 100, 140, 190)))
    assert backend.passes == 3
