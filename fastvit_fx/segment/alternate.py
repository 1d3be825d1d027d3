"""Live video at two scales for one network pass a frame.

A still's crop is shown as a blend of its own look and the whole frame's (segmenter.STILL_ZOOM_BLEND):
the two scales err in different places. A tracked video looks at the crop alone on most frames, since
its budget is one pass a frame. `AlternateLooks` gets both at that budget: the whole frame and the
crop are looked at on alternate frames, and each frame's crop shows the fresh look blended with the
other kind's latest one, made a frame earlier. Where the frame moved since that older look, it is
out of date there, so its weight falls to zero with the motion (refine.frame_motion): the fresh look
alone, as without alternation. Every frame blends the same way, so the blend does not pulse.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .refine import frame_motion

Box = tuple[int, int, int, int]


class AlternateLooks:
    """The latest whole-frame look and the latest crop look of one video, and whose turn is next."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._whole: np.ndarray | None = None  # frame-sized mask of the latest whole look
        self._whole_seen: np.ndarray | None = None  # motion_image of the frame it was made on
        self._crop: np.ndarray | None = None  # the latest crop look, the crop's size
        self._crop_region: Box | None = None
        self._crop_seen: np.ndarray | None = None
        self._last: str | None = None  # "whole" or "crop": the kind of the latest single look

    def whole_turn(self) -> bool:
        """Whether this frame's one pass looks at the whole frame (the previous frame's was a crop)."""
        return self._last == "crop" and self._crop is not None

    def remember_whole(self, mask: np.ndarray, seen: np.ndarray) -> None:
        self._whole, self._whole_seen, self._last = mask, seen, "whole"

    def remember_crop(self, closer: np.ndarray, region: Box, seen: np.ndarray) -> None:
        self._crop, self._crop_region, self._crop_seen, self._last = closer, region, seen, "crop"

    def remember_both(self, whole: np.ndarray, closer: np.ndarray, region: Box, seen: np.ndarray) -> None:
        """A frame looked at whole and cropped (the tracker's refresh): the crop's turn comes next."""
        self._whole, self._whole_seen = whole, seen
        self._crop, self._crop_region, self._crop_seen = closer, region, seen
        self._last = "whole"

    def crop_with_older_whole(self, closer: np.ndarray, region: Box, seen: np.ndarray,
                              frame_hw: tuple[int, int], crop_weight: float) -> np.ndarray:
        """A crop look blended with the latest whole look over the same pixels, where the frame did not
        move: `crop_weight` of the crop's where it did not move at all."""
        if self._whole is None or self._whole.shape[:2] != frame_hw:
            return closer
        x0, y0, x1, y1 = region
        older = self._whole[y0:y1, x0:x1]
        keep = (1.0 - _checked(crop_weight)) * _still(self._whole_seen, seen, region, frame_hw)
        return closer + (older - closer) * keep

    def whole_with_older_crop(self, piece: np.ndarray, region: Box, seen: np.ndarray,
                              frame_hw: tuple[int, int], crop_weight: float) -> np.ndarray:
        """The whole look's pixels over `region` blended with the latest crop look where that covered
        them and the frame did not move."""
        if self._crop is None or self._crop_region is None:
            return piece
        x0, y0, x1, y1 = region
        cx0, cy0, cx1, cy1 = self._crop_region
        ix0, iy0, ix1, iy1 = max(x0, cx0), max(y0, cy0), min(x1, cx1), min(y1, cy1)
        if ix0 >= ix1 or iy0 >= iy1:
            return piece
        older = np.zeros_like(piece)
        covered = np.zeros_like(piece)
        older[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = self._crop[iy0 - cy0:iy1 - cy0, ix0 - cx0:ix1 - cx0]
        covered[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = 1.0
        keep = _checked(crop_weight) * covered * _still(self._crop_seen, seen, region, frame_hw)
        return piece + (older - piece) * keep


def _checked(crop_weight: float) -> float:
    if not 0.0 <= crop_weight <= 1.0:
        raise ValueError(f"crop_weight must be in [0, 1], got {crop_weight}")
    return crop_weight


def _still(older_seen: np.ndarray | None, seen: np.ndarray, region: Box, frame_hw: tuple[int, int]) -> np.ndarray:
    """Over `region` (the crop's size): 1 where the frame looks as it did when `older_seen` was taken,
    falling to 0 where it moved."""
    x0, y0, x1, y1 = region
    h, w = y1 - y0, x1 - x0
    if older_seen is None or older_seen.shape != seen.shape:
        return np.zeros((h, w), np.float32)
    moved = frame_motion(older_seen, seen)
    fy, fx = moved.shape[0] / frame_hw[0], moved.shape[1] / frame_hw[1]
    qy0, qx0 = min(int(y0 * fy), moved.shape[0] - 1), min(int(x0 * fx), moved.shape[1] - 1)
    qy1, qx1 = max(qy0 + 1, math.ceil(y1 * fy)), max(qx0 + 1, math.ceil(x1 * fx))
    return 1.0 - cv2.resize(np.ascontiguousarray(moved[qy0:qy1, qx0:qx1]), (w, h), interpolation=cv2.INTER_LINEAR)
