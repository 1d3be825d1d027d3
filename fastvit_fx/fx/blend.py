"""Blend modes and matte compositing on uint8 BGR images.

All of it is OpenCV arithmetic on uint8 (saturating, rounded, multi-threaded, GIL released): a
1280x720 blend costs well under a millisecond where the same float32 numpy code costs several.
Mattes are uint8 0..255, HxW or HxWx3; a float opacity scales them.
"""
from __future__ import annotations

import cv2
import numpy as np

MODES = ("normal", "add", "screen", "multiply")
_INV = 1.0 / 255.0


def _as3(matte: np.ndarray) -> np.ndarray:
    return cv2.merge([matte] * 3) if matte.ndim == 2 else matte


def apply_mode(base: np.ndarray, layer: np.ndarray, mode: str) -> np.ndarray:
    """The blend result at full strength: what the layer does to the base in `mode`."""
    if mode == "normal":
        return layer
    if mode == "add":
        return cv2.add(base, layer)
    if mode == "screen":  # 1 - (1 - a)(1 - b): brightens like add but never clips harshly
        return cv2.bitwise_not(cv2.multiply(cv2.bitwise_not(base), cv2.bitwise_not(layer), scale=_INV))
    if mode == "multiply":
        return cv2.multiply(base, layer, scale=_INV)
    raise ValueError(f"unknown blend mode {mode!r}; choose one of: {', '.join(MODES)}")


def mix(a: np.ndarray, b: np.ndarray, alpha) -> np.ndarray:
    """a * (1 - alpha) + b * alpha. alpha: a float in [0, 1] or a uint8 matte (HxW or HxWx3)."""
    if isinstance(alpha, np.ndarray):
        alpha3 = _as3(alpha)
        return cv2.add(cv2.multiply(a, cv2.bitwise_not(alpha3), scale=_INV),
                       cv2.multiply(b, alpha3, scale=_INV))
    alpha = float(alpha)
    if alpha >= 1.0:
        return b.copy()
    if alpha <= 0.0:
        return a.copy()
    return cv2.addWeighted(a, 1.0 - alpha, b, alpha, 0.0)


def blend(base: np.ndarray, layer: np.ndarray, mode: str = "normal", opacity: float = 1.0,
          matte: np.ndarray | None = None) -> np.ndarray:
    """Blend `layer` onto `base` in `mode`, at `opacity`, limited to `matte` (uint8) if given.

    Returns a new image; neither input is modified.
    """
    if base.shape != layer.shape:
        raise ValueError(f"blend: base {base.shape} and layer {layer.shape} differ in shape")
    result = apply_mode(base, layer, mode)
    if matte is not None:
        alpha = matte if opacity >= 1.0 else cv2.convertScaleAbs(matte, alpha=max(0.0, opacity))
        return mix(base, result, alpha)
    return mix(base, result, opacity) if opacity < 1.0 else (result.copy() if result is layer else result)


def composite(fg: np.ndarray, bg: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """Person over background: fg where matte is 255, bg where 0, soft in between."""
    return mix(bg, fg, matte)


def add_light(base: np.ndarray, light: np.ndarray, mode: str = "add") -> np.ndarray:
    """Add a light layer (uint8 BGR) by `add` or `screen` - the usual way glows and rims land."""
    return apply_mode(base, light, mode)
