"""Small image helpers shared by passes: colours, low-res <-> full-res, cheap conversions.

Convention: full-resolution images are uint8 BGR; smooth low-resolution layers are float32 in
[0, 1+] (light can exceed 1 before it is clipped on the way back to uint8).
"""
from __future__ import annotations

import cv2
import numpy as np


def hex_to_bgr(color: str) -> tuple[int, int, int]:
    """'#ff8800' -> (0, 136, 255)."""
    value = color.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def bgr01(color: str) -> np.ndarray:
    """'#ff8800' -> float32 BGR in [0, 1]."""
    return np.asarray(hex_to_bgr(color), np.float32) / 255.0


def to_u8(img: np.ndarray) -> np.ndarray:
    """float [0, 1] -> uint8 with saturation (convertScaleAbs is one fused, threaded pass)."""
    return cv2.convertScaleAbs(img, alpha=255.0)


def resize(img: np.ndarray, size_wh: tuple[int, int], area: bool = False) -> np.ndarray:
    """Bilinear resize to (w, h); area averaging when shrinking a detailed image (no shimmer)."""
    if img.shape[1] == size_wh[0] and img.shape[0] == size_wh[1]:
        return img
    return cv2.resize(img, size_wh, interpolation=cv2.INTER_AREA if area else cv2.INTER_LINEAR)


def shrink(img: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """Fast area-like downscale: bilinear to twice the target (2x2 averages of every other pixel),
    then area. Close to a box filter, several times cheaper than INTER_AREA from full resolution."""
    w, h = size_wh
    if img.shape[1] >= 4 * w and img.shape[0] >= 4 * h:
        img = cv2.resize(img, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def colorize(intensity: np.ndarray, color_bgr01: np.ndarray) -> np.ndarray:
    """HxW float32 intensity times a BGR colour -> HxWx3 float32 (meant for low-res layers)."""
    return intensity[..., None] * np.asarray(color_bgr01, np.float32)


def blur(img: np.ndarray, sigma: float, smooth: bool = False) -> np.ndarray:
    """Gaussian blur with the kernel sized from sigma; no-op for sigma <= 0.

    Wide blurs run on a smaller copy and come back bilinearly: the result is smooth anyway, and
    the kernel cost grows with sigma while the copy's pixel count shrinks with its square.
    smooth=True for results that get differentiated (normals): a last small blur at full size
    removes the kinks the bilinear way back leaves at every copy pixel.
    """
    if sigma <= 0:
        return img
    h, w = img.shape[:2]
    down = int(min(sigma / 3, w / 32, h / 32))  # keep the copy at 32+ px
    if down >= 2:
        small = cv2.resize(img, (max(2, w // down), max(2, h // down)), interpolation=cv2.INTER_AREA)
        out = cv2.resize(blur(small, sigma / down), (w, h), interpolation=cv2.INTER_LINEAR)
        return blur(out, 0.6 * down) if smooth else out
    k = int(sigma * 3) * 2 + 1
    return cv2.GaussianBlur(img, (k, k), sigma, borderType=cv2.BORDER_REFLECT)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised pixel-centre coordinates: x in [0, 1] across, y in [0, 1] down (float32, broadcastable)."""
    x = ((np.arange(w, dtype=np.float32) + 0.5) / w)[None, :]
    y = ((np.arange(h, dtype=np.float32) + 0.5) / h)[:, None]
    return x, y


def hue_colors(hues: np.ndarray, saturation: float = 1.0, value: float = 1.0) -> np.ndarray:
    """Vectorised HSV -> BGR float32 in [0, 1]; hues in turns (any real, wrapped)."""
    h = np.mod(hues, 1.0) * 6.0
    k = np.stack([(5.0 + h) % 6.0, (3.0 + h) % 6.0, (1.0 + h) % 6.0], axis=-1)  # r, g, b
    rgb = value - value * saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return rgb[..., ::-1].astype(np.float32)


def gradient(h: int, w: int, colors_bgr01: list[np.ndarray], angle_deg: float = 90.0,
             center: float = 0.5) -> np.ndarray:
    """Linear multi-stop gradient (float32 HxWx3) along angle (0 = left->right, 90 = top->bottom)."""
    x, y = grid(h, w)
    a = np.deg2rad(angle_deg)
    s = (x - 0.5) * np.cos(a) * (w / max(h, w)) + (y - 0.5) * np.sin(a) * (h / max(h, w))
    s = np.clip(s / (0.5 * (abs(np.cos(a)) * w + abs(np.sin(a)) * h) / max(h, w)) * 0.5 + center, 0, 1)
    stops = np.linspace(0.0, 1.0, len(colors_bgr01))
    table = np.stack(colors_bgr01).astype(np.float32)
    out = np.empty((h, w, 3), np.float32)
    for c in range(3):  # 3 channels, not pixels: np.interp is vectorised over the image
        out[..., c] = np.interp(s, stops, table[:, c])
    return out
