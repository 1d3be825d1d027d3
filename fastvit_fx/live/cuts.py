"""Cuts in a source: a looping video jumping back to its start, a new camera, a scene change. After a
cut nothing computed on the frames before it (the segmenter's tracker and smoother, a mask to carry)
may touch the frames after it."""
from __future__ import annotations

import cv2
import numpy as np

CUT_SIZE = (160, 90)  # small enough to ignore sensor noise, large enough for the flow to hold


class CutDetector:
    """``detector.is_cut(thumb)``: True when this frame does not continue the previous one;
    ``detector.between(a, b)``: the same test for any two frames. Thumbs: `carry.thumbnail`.

    A cut changes much of the picture in a way motion does not explain. Measured on the fast demo
    (a person crossing a still room): one to two frames of fast walking change at most 6 % of the
    thumbnail, and the flow explains two thirds of that or more; the demo looping back (the person
    jumps across the room) changes 9-12 % and the flow explains almost none of it.
    """

    def __init__(self, pixel_change: int = 28, small_change: float = 0.05, big_change: float = 0.5,
                 unexplained: float = 0.75) -> None:
        self.pixel_change = pixel_change
        self.small_change = small_change  # less than this share changed: never a cut
        self.big_change = big_change  # more than this share changed: always a cut
        self.unexplained = unexplained  # in between: a cut when the flow leaves this share unexplained
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        self._previous = None

    def is_cut(self, thumb: np.ndarray) -> bool:
        small = self._small(thumb)
        previous, self._previous = self._previous, small
        return previous is not None and self._cut(previous, small)

    def between(self, a: np.ndarray, b: np.ndarray) -> bool:
        return self._cut(self._small(a), self._small(b))

    @staticmethod
    def _small(thumb: np.ndarray) -> np.ndarray:
        return cv2.resize(thumb, CUT_SIZE, interpolation=cv2.INTER_AREA)

    def _cut(self, a: np.ndarray, b: np.ndarray) -> bool:
        if a.shape != b.shape:
            return True
        changed = float((cv2.absdiff(a, b) > self.pixel_change).mean())
        if changed < self.small_change or changed > self.big_change:
            return changed > self.big_change
        flow = self._dis.calc(b, a, None)
        h, w = b.shape
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        explained = cv2.remap(a, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        left = float((cv2.absdiff(explained, b) > self.pixel_change).mean())
        return left > self.unexplained * changed
