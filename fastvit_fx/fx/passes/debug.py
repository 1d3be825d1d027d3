"""The mask debug view: what the engine sees. Grey = mask, cyan = edge band and normals' light,
magenta = motion."""
from __future__ import annotations

import cv2
import numpy as np

from ..params import Choice
from . import Context, Pass, register


@register
class MaskView(Pass):
    name = "mask_view"
    help = "show the mask and the shared fields instead of the frame"
    params = {
        "style": Choice("fields", ("fields", "matte", "overlay"),
                        "fields: mask + edge band + motion; matte: mask only; overlay: mask tinted over the frame"),
    }

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        f = ctx.fields
        style = self.p["style"]
        if style == "matte":
            return cv2.merge([f.mask_u8] * 3)
        if style == "overlay":
            green = np.zeros_like(img)
            green[..., 1] = f.mask_u8
            return cv2.addWeighted(cv2.convertScaleAbs(img, alpha=0.6), 1.0, green, 0.55, 0.0)
        # fields: grey matte, the edge band lit by the normal (left/right tell you the normal works),
        # motion in magenta, and the frame faintly underneath for orientation
        edge = f.edge
        lit = edge * (0.55 + 0.45 * f.nx)
        layer = np.zeros((f.gh, f.gw, 3), np.float32)
        layer[..., 0] = lit + f.motion
        layer[..., 1] = lit * 0.85
        layer[..., 2] = f.motion
        base = cv2.addWeighted(cv2.merge([f.mask_u8] * 3), 0.75, img, 0.18, 0.0)
        return cv2.add(base, cv2.convertScaleAbs(f.upsample(layer), alpha=200.0))
