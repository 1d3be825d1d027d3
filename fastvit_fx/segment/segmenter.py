"""Segmenter: BGR frame in, full-resolution soft person mask out."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from ..backends.base import Backend
from ..model.config import ModelConfig
from .input_size import LARGE_PEOPLE_SIZE, SMALL_PEOPLE_SIZE, InputSizes, LargeSizeGate
from .letterbox import Letterbox, crop_valid, letterbox_shape, to_network_input
from .refine import (FINE_FIT_MAX_HEIGHT, FINE_WORK_SCALE, MASK_STRETCH, SMALL_PEOPLE_BELOW, SMALL_PEOPLE_STRETCH,
                     WORK_SCALE, TemporalSmoother, apply_size, guided_upsample, tallest_person)
from .zoom import MAX_UPSCALE, ZoomTracker, paste_feathered, person_box, scale_box, tile_regions, zoom_region


# A still taller than FINE_FIT_MAX_HEIGHT (a camera frame or a photo, not a small frame) whose first look
# found only people shorter than SMALL_PEOPLE_BELOW of it, spread so that no zoom crop gains, gets two more
# looks at overlapping halves (zoom.tile_regions). Off: chosen by a rule on pasted groups (0.331 -> 0.465),
# then withdrawn when real street frames in 1280x720 showed cars painted as people by the halves' looks
# (val street in wide frames: 27 frames worse, 22 better; model card, "A tiled second look at stills of
# small people"). Video never tiles: the live budget is one pass a frame.
TILE_SMALL_PEOPLE = False
# The tiled look's result is held within this much of the first look's own probability (None: not held),
# as the guided filter is (refine.NETWORK_HOLD): the halves may settle people the first look was unsure
# of, and may not paint what it called background.
TILE_HOLD: float | None = 0.35
# the ways of looking at such stills that the measuring scripts name: (tile_small_people, tile_hold)
TILE_CHOICES = {"off": (False, None), "on": (True, TILE_HOLD), "unheld": (True, None)}

# A still's zoomed look is blended with the first look over its crop, this much of the zoomed one (1: the
# zoomed look replaces the first). The two looks see the person at two scales and err in different places
# (rocks at a hiker's feet painted only in the enlarged crop, a crouching skater found only there); their
# average is a two-scale ensemble at no extra pass. Chosen on the train split by a rule written first
# (model card: A still's two looks blended): 0.7 lifted train indoor 0.815 -> 0.837 and poses 0.777 ->
# 0.793 for pasted small people -0.004; 0.5 gave more to the scenes and cost small people 0.019. On val:
# poses 0.708 -> 0.728, indoor 0.776 -> 0.782, photos unchanged, pasted small -0.003. Live video keeps
# 1: the tracker looks at the crop alone on most frames, and a blend only on the frames with a full look
# would pulse.
STILL_ZOOM_BLEND = 0.7
# Video whose every frame gets a full look as well as the crop (render --quality high: the tracker's
# refresh is 1) blends the same way without pulsing. Taken by a rule on the train split's sequences
# (model card: Both looks blended in offline video): mIoU 0.599 -> 0.611, flicker 0.224 -> 0.199; val
# 0.689 -> 0.694, 0.167 -> 0.164.
BLEND_WHEN_EVERY_FRAME_IS_WHOLE = True

# Each look also runs on the mirrored frame and the two probability maps are averaged (test-time flip): a
# second opinion from the same network for twice its time. Off: measured by a rule on val (model card, "A
# mirrored second pass"), it lifted indoor 0.787 -> 0.800 and cost street 0.262 -> 0.218, where small
# pedestrians that one look alone finds fall under 0.5. `flip_average` turns it on per Segmenter (eval.py --flip).
FLIP_AVERAGE = False
# Stills only: every look of a still whose first look's tallest person is within [low, high) of the frame's
# height is mirrored and averaged (None: none). Off: gated at a quarter of the height and up, or a quarter to
# 0.7, street still lost 0.019 on val and the ungated indoor gain went (model card, "The mirrored look gated
# by the people found"). `flip_people` sets it per Segmenter (eval.py --flip-people).
FLIP_PEOPLE: tuple[float, float] | None = None

# Longer than this since the previous frame (a stall, a clip at a few frames a second), the person may be
# anywhere: the tracked crop is dropped and the frame looked at whole. At 30 fps it is 7 frames, less than
# the tracker's own refresh of 12.
FULL_LOOK_AFTER_S = 0.25


class Segmenter:
    """``mask = Segmenter()(frame_bgr)``: float32 HxW in [0, 1], the frame's size.

    Inside: letterbox to `size` (longest side, padded to a multiple of 32), run the fused network,
    upsample the stride-4 probabilities to the frame guided by its edges, and, with smooth=True
    (video), blend with the previous mask where it barely changed. Call from one thread at a time.

    zoom=True: where the people found cover a small part of the frame (someone across the room in a
    16:9 frame), segment a crop around them again, so the network sees them several times larger
    (zoom.py). A still costs a second network pass then; video (smooth=True) tracks the
    crop from frame to frame and looks at the whole frame only every few frames, so it costs about
    one pass a frame, on a smaller input.

    sizes (input_size.py): where the first look finds a large person (or only small people), the
    passes that follow it (a still's second look, the zoom crop, the next video frame) run at the
    input size chosen for them (by default 320 for a person at least 0.7 of the frame's height;
    input_size.py says why). Live video takes the large size only while the segmenter keeps up with
    it (`large_size_gate`). Only with the model's own size: a size asked for is kept.
    """

    def __init__(self, backend: Backend | None = None, config: ModelConfig | None = None, *,
                 size: int | None = None, refine: bool = True, smooth: bool = False, zoom: bool = True) -> None:
        """backend: a loaded runtime (fastvit_fx.backends); config: the ModelConfig it was built
        from. Both come from `open_segmenter(weights, backend, ...)`, the one way every command
        builds a Segmenter; `Segmenter()` alone is a convenience for open_segmenter()'s defaults
        (the shipped weights on the best runtime here)."""
        if backend is None:
            from .open import open_backend

            backend, config = open_backend(size=size)
        if config is None:
            raise TypeError("Segmenter(backend, config): pass the ModelConfig the backend was built from "
                            "(or use fastvit_fx.segment.open_segmenter)")
        self.backend = backend
        self.config = config
        self.weights = None  # the weights file it came from, where known (open_segmenter fills it in)
        base = int(size or config.input_size)
        if base < 32:
            raise ValueError(f"input size must be at least 32, got {base}")
        self.refine = refine
        self.color_guide = True  # the guided filter reads colour, not grey (refine.guided_upsample)
        # a frame (or zoom crop) whose tallest person found is shorter than this fraction of it has small
        # people (None: never): the guided fit's output is stretched by small_people_stretch, so people the
        # network is unsure of are shown solid, and on frames at most FINE_FIT_MAX_HEIGHT tall it fits at
        # FINE_WORK_SCALE, so its windows are not wider than the people
        self.small_people_below: float | None = SMALL_PEOPLE_BELOW
        self.small_people_stretch: tuple[float, float] | None = SMALL_PEOPLE_STRETCH
        self.smoother = TemporalSmoother() if smooth else None
        self.zoom = zoom
        self.still_zoom_blend = STILL_ZOOM_BLEND  # stills and video looked at whole every frame (_blends_looks)
        self.tile_small_people = TILE_SMALL_PEOPLE  # stills only: see TILE_SMALL_PEOPLE
        self.tile_hold = TILE_HOLD
        self.flip_average = FLIP_AVERAGE  # every look also at the mirrored frame, the two averaged
        self.flip_people = FLIP_PEOPLE  # stills: the same where the first look's people are in this band
        self._fixed_hw = getattr(self.backend, "input_hw", None)  # Core ML: one input shape
        chosen_sizes = size is None and self._fixed_hw is None
        self.sizes = InputSizes(base, large=LARGE_PEOPLE_SIZE if chosen_sizes else None,
                                small=SMALL_PEOPLE_SIZE if chosen_sizes else None)
        self._tallest: float | None = None  # video: the tallest person in the previous frame
        self._video_size: int | None = None  # video: the size the previous frame ran at
        # video: the large size only while the segmenter keeps up with it (None: always, as scoring wants)
        self.large_size_gate: LargeSizeGate | None = LargeSizeGate() if smooth else None
        self.tracker = ZoomTracker(fixed_hw=self._fixed_hw, input_size=self.size,
                                   max_upscale=MAX_UPSCALE) if zoom and smooth else None
        self.last_ms = 0.0  # network time of the last call (all its passes)
        self.last_region: tuple[int, int, int, int] | None = None  # the zoomed crop of the last call
        self.last_size = self.size  # the input size of the last call's passes after its first look
        self._buffer: np.ndarray | None = None  # reused network input
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The network input's longest side for a first look (the base of `sizes`)."""
        return self.sizes.base

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def reset(self) -> None:
        """Forget the previous frame (a new clip or a cut)."""
        self._tallest = None
        self._video_size = None
        if self.smoother:
            self.smoother.reset()
        if self.tracker:
            self.tracker.reset()

    def probabilities(self, frame_bgr: np.ndarray, downscaled: np.ndarray | None = None,
                      size: int | None = None) -> tuple[np.ndarray, Letterbox]:
        """The network's stride-4 probability map, padding cut off.

        downscaled: the same frame already shrunk (same aspect, INTER_AREA); the letterbox is resized
        from it instead of the full frame where it is still at least the network's input size.
        size: the input's longest side for this pass (default: the base size).
        """
        _check_frame(frame_bgr)
        box = letterbox_shape(frame_bgr.shape[0], frame_bgr.shape[1], size or self.size, fixed=self._fixed_hw)
        source = frame_bgr
        if downscaled is not None and downscaled.shape[0] >= box.h and downscaled.shape[1] >= box.w:
            source = downscaled
        self._buffer = to_network_input(source, box, self.config.mean, self.config.std, self._buffer)
        t0 = time.perf_counter()
        prob = self.backend(self._buffer)
        self.last_ms = (time.perf_counter() - t0) * 1000
        return np.ascontiguousarray(crop_valid(prob[0, 0], box), dtype=np.float32), box

    def __call__(self, frame_bgr: np.ndarray, interval_s: float | None = None) -> np.ndarray:
        """interval_s: seconds since the previous frame of the same video, where known (a camera's
        timestamps, a clip's frame rate): the smoothing is then per second, not per call, and a long
        gap drops the tracked crop. Stills and unknown timing: None."""
        with self._lock:
            _check_frame(frame_bgr)
            started = time.perf_counter()
            hw = frame_bgr.shape[:2]
            video = self.smoother is not None or self.tracker is not None
            tracker, net_ms, region = self.tracker, 0.0, None
            if tracker is not None and interval_s is not None and interval_s > FULL_LOOK_AFTER_S:
                tracker.reset()
                self._tallest = None
            # video: the size the previous frame's people called for (one pass a frame); a still: the base
            size = self._video_pass_size() if video else self.size
            looked_whole = False
            mirrored = self.flip_average
            if tracker is not None and not tracker.needs_full_look(hw):
                region = tracker.region  # video: only the crop, where the person was a frame ago
                mask = np.zeros(hw, np.float32)
            else:
                looked_whole = True
                mask, prob, tallest = self._look(frame_bgr, size, mirrored)
                net_ms += self.last_ms
                box = person_box(prob) if self.zoom else None
                found = scale_box(box, prob.shape, hw) if box is not None else None
                if tracker is not None:
                    region = tracker.after_full_look(found, hw)
                elif found is not None:
                    region = zoom_region(found, hw, fixed_hw=self._fixed_hw, input_size=self.size,
                                         max_upscale=MAX_UPSCALE)
                if not video:
                    size = self.sizes.for_tallest(tallest)
                    if not mirrored and self._flips_people(tallest):
                        mirrored = True  # this still's looks from here on are mirrored too
                        if region is not None or size == self.size:  # the first look is kept: its mirror half
                            mask = self._look(frame_bgr, self.size, mirrored, plain=prob)[0]
                            net_ms += self.last_ms
                    if region is None and size != self.size:  # a still: look again at the size for its people
                        mask = self._look(frame_bgr, size, mirrored)[0]
                        net_ms += self.last_ms
                    if region is None and self._tiles_pay(hw, tallest):
                        for tile in tile_regions(hw):
                            x0, y0, x1, y1 = tile
                            paste_feathered(mask, self._look(frame_bgr[y0:y1, x0:x1], size, mirrored)[0], tile)
                            net_ms += self.last_ms
                        if self.tile_hold is not None:
                            first = cv2.resize(prob, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
                            np.clip(mask, first - self.tile_hold, first + self.tile_hold, out=mask)
            if region is not None:
                x0, y0, x1, y1 = region
                closer = self._look(frame_bgr[y0:y1, x0:x1], size, mirrored)[0]
                if looked_whole and self.still_zoom_blend < 1.0 and self._blends_looks():
                    closer = blend_looks(mask[y0:y1, x0:x1], closer, self.still_zoom_blend)
                paste_feathered(mask, closer, region)
                net_ms += self.last_ms
            self.last_ms, self.last_region, self.last_size = net_ms, region, size
            if tracker is not None:
                tracker.update(mask)
            if video and self.sizes.varies:
                self._tallest = tallest_person(mask[::4, ::4])  # the frame's people, for the next frame's size
            if self.smoother is not None:
                mask = self.smoother(mask, frame_bgr, interval_s)
            if video:
                self._video_size = size
                if self.large_size_gate is not None:
                    large = self.sizes.large is not None and size == self.sizes.large != self.size
                    self.large_size_gate.record((time.perf_counter() - started) * 1000, large, interval_s)
            return mask

    def _video_pass_size(self) -> int:
        """A video frame's input size: what the previous frame's people called for, the large size only
        while the gate is open."""
        size = self.sizes.for_tallest(self._tallest, current=self._video_size)
        gate = self.large_size_gate
        if gate is not None and size == self.sizes.large and not gate.open:
            return self.size
        return size

    def _blends_looks(self) -> bool:
        """Whether a crop's look is blended with the full look made on the same frame: on stills, and on
        video only where every frame is looked at whole (else the frames with both looks would pulse)."""
        still = self.smoother is None and self.tracker is None
        every_frame_whole = self.tracker is not None and self.tracker.refresh == 1
        return still or (BLEND_WHEN_EVERY_FRAME_IS_WHOLE and every_frame_whole)

    def _tiles_pay(self, hw: tuple[int, int], tallest: float) -> bool:
        """A still's tiled look (TILE_SMALL_PEOPLE): a camera-sized frame whose people found are all small."""
        small = self.small_people_below is not None and 0.0 < tallest < self.small_people_below
        return self.tile_small_people and self.zoom and small and hw[0] > FINE_FIT_MAX_HEIGHT

    def _flips_people(self, tallest: float) -> bool:
        """Whether a still whose first look's tallest person is `tallest` of its height is looked at mirrored
        as well (flip_people)."""
        return self.flip_people is not None and self.flip_people[0] <= tallest < self.flip_people[1]

    def _look(self, frame_bgr: np.ndarray, size: int, mirrored: bool = False,
              plain: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """One network pass at `size` (two where `mirrored`: the mirrored frame's as well, averaged): the
        frame-sized mask, the stride-4 probabilities it came from, and the height of the tallest person in
        them (a fraction of the frame's). plain: this look's unmirrored probabilities, already made."""
        h, w = frame_bgr.shape[:2]
        # one area downscale serves both the letterbox and the guided filter's apply step
        half = cv2.resize(frame_bgr, apply_size(h, w), interpolation=cv2.INTER_AREA) if self.refine else None
        ms = 0.0
        if plain is None:
            plain, _ = self.probabilities(frame_bgr, downscaled=half, size=size)
            ms += self.last_ms
        prob = plain
        if mirrored:
            prob_of_mirrored, _ = self.probabilities(np.ascontiguousarray(frame_bgr[:, ::-1]), size=size,
                                                     downscaled=None if half is None
                                                     else np.ascontiguousarray(half[:, ::-1]))
            prob = flip_averaged(plain, prob_of_mirrored)
            ms += self.last_ms
        self.last_ms = ms
        if self.refine:
            tallest = tallest_person(prob)
            small = self.small_people_below is not None and tallest < self.small_people_below
            fine = small and h <= FINE_FIT_MAX_HEIGHT
            return guided_upsample(prob, frame_bgr, frame_at_apply=half, color=self.color_guide,
                                   work_scale=FINE_WORK_SCALE if fine else WORK_SCALE,
                                   stretch=self.small_people_stretch if small else MASK_STRETCH), prob, tallest
        return cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), prob, tallest_person(prob)


def blend_looks(first: np.ndarray, closer: np.ndarray, closer_weight: float) -> np.ndarray:
    """Two looks at the same pixels (the first look's mask over a crop, the crop's own look), mixed:
    `closer_weight` of the closer one."""
    if not 0.0 <= closer_weight <= 1.0:
        raise ValueError(f"closer_weight must be in [0, 1], got {closer_weight}")
    return cv2.addWeighted(closer, closer_weight, first, 1.0 - closer_weight, 0.0)


def flip_averaged(prob: np.ndarray, prob_of_mirrored: np.ndarray) -> np.ndarray:
    """The mean of a look's probabilities and those of its mirrored frame, mirrored back (padding cut off
    both, so they line up to within half a cell where the scaled width is not a multiple of the stride)."""
    if prob.shape != prob_of_mirrored.shape:
        raise ValueError(f"a look and its mirror differ in shape: {prob.shape} and {prob_of_mirrored.shape}")
    return (prob + prob_of_mirrored[..., ::-1]) * np.float32(0.5)


def _check_frame(frame_bgr: np.ndarray) -> None:
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame_bgr.shape} {frame_bgr.dtype}")
