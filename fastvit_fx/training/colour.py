"""Recolouring a texture in HSV: what a thing is made of changes, its light and shade stay."""
from __future__ import annotations

import cv2
import numpy as np


def recolour(texture: np.ndarray, hue: int, saturation, value_scale: float, value_add: float) -> np.ndarray:
    """A BGR uint8 texture given one OpenCV hue (0-179) and a saturation (one value, or one per
    pixel), its brightness scaled and lifted: value * value_scale + value_add."""
    hsv = cv2.cvtColor(texture, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = hue
    hsv[..., 1] = saturation
    value = hsv[..., 2].astype(np.float32) * value_scale + value_add
    hsv[..., 2] = np.clip(value, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
