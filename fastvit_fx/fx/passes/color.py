"""Colour grading: brightness, contrast, saturation, tint and vignette, on the person, the
background or everything: one colour matrix, one multiply for the vignette, one matte mix."""
from __future__ import annotations

import cv2
import numpy as np

from ..ops import hex_to_bgr
from ..params import Color, Num
from . import WHERE, Context, Pass, register, restrict


@register
class Grade(Pass):
    name = "grade"
    help = "tone and colour adjustments (color-pop, moody backgrounds)"
    params = {
        "where": WHERE,
        "brightness": Num(0.0, -1.0, 1.0, "added light level, -1 black .. +1 white"),
        "contrast": Num(1.0, 0.0, 3.0, "around mid grey"),
        "saturation": Num(1.0, 0.0, 3.0, "0 grey, 1 unchanged"),
        "tint": Color("#ffffff", "multiplied colour"),
        "tint_amount": Num(0.0, 0.0, 1.0),
        "vignette": Num(0.0, 0.0, 1.0, "darkening toward the corners"),
    }

    def setup(self) -> None:
        p = self.p
        # saturation, contrast, brightness and tint are all linear in the pixel: fold them into
        # one 3x4 colour matrix, applied by a single cv2.transform (SIMD, one pass over the frame)
        luma = np.array([0.114, 0.587, 0.299], np.float32)  # BGR
        s, k = p["saturation"], p["contrast"]
        sat = s * np.eye(3, dtype=np.float32) + (1 - s) * np.tile(luma, (3, 1))
        tint = np.asarray(hex_to_bgr(p["tint"]), np.float32) / 255.0
        gains = 1.0 + (tint - 1.0) * p["tint_amount"]
        matrix = gains[:, None] * (k * sat)
        offset = gains * (127.5 * (1 - k) + 255.0 * p["brightness"])
        self.matrix = np.hstack([matrix, offset[:, None]]).astype(np.float32)
        self.identity = bool(np.allclose(self.matrix, np.hstack([np.eye(3), np.zeros((3, 1))]), atol=1e-6))
        self._vignette: np.ndarray | None = None

    def _vignette_for(self, h: int, w: int) -> np.ndarray:
        if self._vignette is None or self._vignette.shape[:2] != (h, w):
            y, x = np.ogrid[-1:1:h * 1j, -1:1:w * 1j]
            r2 = (x * x + y * y) * 0.5
            v = np.clip(1.0 - self.p["vignette"] * r2 ** 1.5, 0.0, 1.0).astype(np.float32)
            self._vignette = cv2.merge([cv2.convertScaleAbs(v, alpha=255.0)] * 3)
        return self._vignette

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        p = self.p
        out = img if self.identity else cv2.transform(img, self.matrix)
        if p["vignette"] > 0:
            out = cv2.multiply(out, self._vignette_for(*out.shape[:2]), scale=1 / 255)
        return restrict(img, out, ctx, p["where"]) if out is not img else img
