"""Zoom on small people: where in the frame to run the network a second time (or instead).

A 1280x720 frame letterboxed to 256x144 leaves a person standing across the room 30 px tall, too
small for the network's stride-32 features; cropping the frame around them first gives the network
a person several times larger. Pure functions of boxes and masks, plus a small tracker that carries
the region from one video frame to the next so video pays for one network pass a frame, not two.
Boxes are (x0, y0, x1, y1) in pixels, x1 and y1 exclusive.
"""
from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]

# The most a zoom crop is enlarged to reach the network's input (zoom_region); None: no cap. A cap of 1
# (a closer look at 1:1, never blowing pixels up) won on the train split's low-resolution scene frames
# (indoor 0.768 -> 0.783) and lost on val's (indoor 0.723 -> 0.718, all of it one sequence, where the
# whole-frame look paints a red carpet that the enlarged crop did not); in video (the tracker) it won
# on the train split's clips (video mIoU 0.559 -> 0.586) and lost on val's (0.622 -> 0.591). By the
# rules written before each was measured it is not taken (model card, Quality: "Zoom on
# low-resolution footage", "Zoom in video").
MAX_UPSCALE: float | None = None


def person_box(prob: np.ndarray, threshold: float = 0.5) -> Box | None:
    """The box around every pixel above threshold (all people together), or None if there are none."""
    rows = np.flatnonzero((prob > threshold).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((prob[rows[0]:rows[-1] + 1] > threshold).any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def scale_box(box: Box, from_hw: tuple[int, int], to_hw: tuple[int, int]) -> Box:
    """A box on a (h, w) map expressed on another map of the same picture (e.g. stride 4 -> frame)."""
    sy, sx = to_hw[0] / from_hw[0], to_hw[1] / from_hw[1]
    x0, y0, x1, y1 = box
    return (int(np.floor(x0 * sx)), int(np.floor(y0 * sy)),
            min(to_hw[1], int(np.ceil(x1 * sx))), min(to_hw[0], int(np.ceil(y1 * sy))))


def zoom_region(box: Box, frame_hw: tuple[int, int], margin: float = 0.3, min_side: float = 0.25,
                min_gain: float = 1.4, fixed_hw: tuple[int, int] | None = None,
                input_size: int | None = None, max_upscale: float | None = None) -> Box | None:
    """The crop to segment for people inside `box` (frame pixels), or None where the whole frame is
    as good: the box grown by `margin` of its size on every side (room for motion and for parts the
    first look missed), each side at least `min_side` of the frame's height (no absurd enlargement of
    a speck), kept inside the frame.

    Both the frame and the crop are letterboxed to the network's input, so the network sees the
    person enlarged by the ratio of the two letterbox scales; None when that gain is below
    `min_gain`. With a free input shape (size on the longest side), a person standing the full
    height of a 16:9 frame still gains 1280/720 = 1.8x. fixed_hw: a runtime with one input shape
    (Core ML); the crop is then widened to that shape's aspect, which costs nothing (the letterbox
    would pad there) and shows the network more of the room.
    input_size, max_upscale: the network's input (longest side; fixed_hw wins where given) and how far
    the crop may be enlarged to reach it. A closer look sees no more than the pixels the camera gave:
    past that the crop is grown (more of the room, same person) until it is enlarged at most
    `max_upscale` times, and declined if that leaves less than `min_gain`.
    """
    fh, fw = frame_hw
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if bw <= 0 or bh <= 0:
        return None
    w = max(bw * (1 + 2 * margin), min_side * fh)
    h = max(bh * (1 + 2 * margin), min_side * fh)
    if fixed_hw is not None:  # grow the short side to the input's aspect
        aspect = fixed_hw[1] / fixed_hw[0]
        w, h = max(w, h * aspect), max(h, w / aspect)
    if max_upscale is not None and (input_size or fixed_hw):
        w, h = _within_upscale(w, h, max_upscale, input_size, fixed_hw)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = min(w, fw), min(h, fh)
    left = int(round(min(max(cx - w / 2, 0), fw - w)))
    top = int(round(min(max(cy - h / 2, 0), fh - h)))
    region = (left, top, min(fw, left + int(round(w))), min(fh, top + int(round(h))))
    rh, rw = region[3] - region[1], region[2] - region[0]
    if _letterbox_scale(rh, rw, fixed_hw) < min_gain * _letterbox_scale(fh, fw, fixed_hw):
        return None
    return region


def tile_regions(frame_hw: tuple[int, int], share: float = 0.6) -> list[Box]:
    """Two overlapping crops that cover the frame, each `share` of its longer side (left and right, or
    top and bottom): a closer look at people spread across the whole frame, where no single zoom
    crop gains anything."""
    if not 0.5 <= share <= 1.0:
        raise ValueError(f"a tile's share of the frame must be in [0.5, 1], got {share}")
    h, w = frame_hw
    if w >= h:
        side = int(round(w * share))
        return [(0, 0, side, h), (w - side, 0, w, h)]
    side = int(round(h * share))
    return [(0, 0, w, side), (0, h - side, w, h)]


def paste_feathered(mask: np.ndarray, crop_mask: np.ndarray, region: Box, feather: float = 0.1) -> np.ndarray:
    """Blend a crop's mask into the full-frame `mask` (in place, and returned) over `region`.

    The crop's network pass and the full view (or, for video, the zeros outside the tracked crop)
    disagree at the crop's border; pasting the crop as it is leaves that disagreement as a hard
    rectangular edge in the mask. Inside each side of the crop that is not also the frame's border,
    the weight of the crop ramps from 0 to 1 over `feather` of the crop's shorter side (at least
    2 px), so across the border the mask changes by at most 1/feather-pixels of the two masks'
    difference per pixel. Sides on the frame's border need no blending: there is nothing beyond them.
    """
    x0, y0, x1, y1 = region
    h, w = y1 - y0, x1 - x0
    if crop_mask.shape[:2] != (h, w):
        raise ValueError(f"crop mask {crop_mask.shape[:2]} does not match region {h}x{w}")
    band = max(2.0, feather * min(h, w))
    fh, fw = mask.shape[:2]
    wy = _ramp(h, band, y0 > 0, y1 < fh)
    wx = _ramp(w, band, x0 > 0, x1 < fw)
    weight = np.minimum.outer(wy, wx)
    view = mask[y0:y1, x0:x1]
    view += (crop_mask - view) * weight
    return mask


def _ramp(n: int, band: float, fade_start: bool, fade_end: bool) -> np.ndarray:
    """Weights along one side of a crop: 1 in the middle, down to 1/(2 band) at a faded end."""
    i = np.arange(n, dtype=np.float32) + 0.5  # pixel centres: the first pixel is half a pixel in
    ramp = np.ones(n, np.float32)
    if fade_start:
        ramp = np.minimum(ramp, i / band)
    if fade_end:
        ramp = np.minimum(ramp, (n - i) / band)
    return ramp


def _within_upscale(w: float, h: float, max_upscale: float, input_size: int | None,
                    fixed_hw: tuple[int, int] | None) -> tuple[float, float]:
    """(w, h) grown about their centre, aspect kept, until the letterbox enlarges them at most
    `max_upscale` times."""
    scale = min(fixed_hw[0] / h, fixed_hw[1] / w) if fixed_hw is not None else input_size / max(w, h)
    grow = scale / max_upscale
    return (w * grow, h * grow) if grow > 1.0 else (w, h)


def _letterbox_scale(h: int, w: int, fixed_hw: tuple[int, int] | None) -> float:
    """How much the letterbox scales an h x w picture (up to the common input size)."""
    if fixed_hw is None:
        return 1.0 / max(h, w)
    return min(fixed_hw[0] / h, fixed_hw[1] / w)


class ZoomTracker:
    """Video: zoom where the person was in the last frame, and look at the whole frame again every
    `refresh` frames (or when the person is lost) so that someone entering elsewhere is found."""

    def __init__(self, refresh: int = 12, fixed_hw: tuple[int, int] | None = None, input_size: int | None = None,
                 max_upscale: float | None = None) -> None:
        if refresh < 1:
            raise ValueError(f"refresh must be at least 1 frame, got {refresh}")
        self.refresh = refresh
        self.fixed_hw = fixed_hw  # these three: see zoom_region
        self.input_size = input_size
        self.max_upscale = max_upscale
        self.region: Box | None = None
        self._since_full = 0

    def reset(self) -> None:
        self.region = None
        self._since_full = 0

    def needs_full_look(self, frame_hw: tuple[int, int]) -> bool:
        """True when this frame must be segmented whole (no region yet, or time for a fresh look)."""
        if self.region is None or self._since_full >= self.refresh:
            return True
        return not _fits(self.region, frame_hw)  # the camera changed size under us

    def after_full_look(self, found: Box | None, frame_hw: tuple[int, int]) -> Box | None:
        """The crop for a frame just looked at whole, where the people in it are inside `found`.

        The crop being followed is kept while everyone found is inside it: a new crop every few
        frames would change what the network sees and make the mask jump. Someone found outside it
        widens it to take both in (or ends the zoom, where there is nothing to gain).
        """
        self._since_full = 0
        current = self.region if self.region is not None and _fits(self.region, frame_hw) else None
        if current is not None and (found is None or _contains(current, found)):
            return current
        if found is None:
            return None
        if current is not None:
            found = (min(found[0], current[0]), min(found[1], current[1]),
                     max(found[2], current[2]), max(found[3], current[3]))
        return self._region(found, frame_hw)

    def update(self, mask: np.ndarray) -> None:
        """Carry the region over from this frame's full-size mask."""
        self._since_full += 1
        coarse = mask[::4, ::4]  # a box to the nearest 4 px is plenty, at 1/16 of the work
        box = person_box(coarse)
        self.region = None if box is None else self._region(scale_box(box, coarse.shape, mask.shape[:2]),
                                                            mask.shape[:2])

    def _region(self, box: Box, frame_hw: tuple[int, int]) -> Box | None:
        return zoom_region(box, frame_hw, fixed_hw=self.fixed_hw, input_size=self.input_size,
                           max_upscale=self.max_upscale)


def _fits(box: Box, frame_hw: tuple[int, int]) -> bool:
    return box[2] <= frame_hw[1] and box[3] <= frame_hw[0]


def _contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]
