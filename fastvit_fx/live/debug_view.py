"""The mask made visible (the D key): person tinted, background dimmed, the 0.5 contour, raw mask inset."""
from __future__ import annotations

import cv2
import numpy as np


def mask_debug_view(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    dim = cv2.convertScaleAbs(image, alpha=0.35)
    if mask is None:
        return dim
    green = np.empty_like(image)
    green[:] = (60, 220, 90)  # BGR
    tinted = cv2.addWeighted(image, 0.75, green, 0.3, 0)
    weight = np.ascontiguousarray(mask, dtype=np.float32)
    view = cv2.blendLinear(dim, tinted, 1.0 - weight, weight)  # uint8 in, uint8 out, per-pixel weights
    h, w = image.shape[:2]
    step = 2 if min(h, w) >= 360 else 1  # the outline from a half-size mask: plenty for a debug line
    small = mask[::step, ::step] if step > 1 else mask
    contours, _ = cv2.findContours((small > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if step > 1:
        contours = [c * step for c in contours]
    cv2.drawContours(view, contours, -1, (255, 255, 255), max(1, w // 640), cv2.LINE_AA)
    iw = max(w // 4, 16)
    ih = max(int(iw * h / w), 9)
    x0, y0 = w - iw - 12, h - ih - 12
    if x0 > 0 and y0 > 0:
        inset = cv2.resize(weight, (iw, ih), interpolation=cv2.INTER_AREA)
        view[y0:y0 + ih, x0:x0 + iw] = cv2.convertScaleAbs(inset, alpha=255)[..., None]
        cv2.rectangle(view, (x0 - 1, y0 - 1), (x0 + iw, y0 + ih), (255, 255, 255), 1)
    return view
