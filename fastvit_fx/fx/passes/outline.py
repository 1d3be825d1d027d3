"""Neon outline: glowing tubes traced along the silhouette, colours flowing around it.

Like a photographed neon sign: a thin white-hot core (full resolution, from the upsampled distance
field, all uint8) inside a saturated coloured halo and a wide glow (grid light)."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..ops import bgr01, blur, grid
from ..params import Colors, Int, Num
from . import Context, Pass, register

PALETTE_SIZE = 512


def cyclic_palette(colors: list[np.ndarray], n: int = PALETTE_SIZE) -> np.ndarray:
    """n x 3 float32 table running through the colours and back to the first."""
    stops = np.stack(colors + [colors[0]]).astype(np.float32)
    pos = np.linspace(0, len(colors), n, endpoint=False)
    i0 = pos.astype(np.int32)
    w = (pos - i0)[:, None].astype(np.float32)
    return stops[i0] * (1 - w) + stops[i0 + 1] * w


@register
class NeonOutline(Pass):
    name = "neon_outline"
    help = "glowing neon tubes along the silhouette, colours flowing around it"
    additive = True
    params = {
        "colors": Colors(("#ff2bd6", "#7a5cff", "#00e5ff", "#39ff88"), 1, "cycled around the outline"),
        "width": Num(2.5, 0.5, 40.0, "white-hot core half-width, pixels"),
        "offset": Num(6.0, -60.0, 120.0, "distance outside the silhouette, pixels"),
        "lines": Int(2, 1, 4, "parallel tubes"),
        "gap": Num(14.0, 2.0, 120.0, "distance between tubes, pixels"),
        "core": Num(0.8, 0.0, 1.0, "brightness of the white core"),
        "halo": Num(1.1, 0.0, 4.0, "the tight coloured light around each tube"),
        "glow": Num(1.0, 0.0, 5.0, "the wide soft glow"),
        "glow_radius": Num(16.0, 1.0, 120.0, "pixels"),
        "flow": Num(0.12, -5.0, 5.0, "turns per second the colours travel around"),
        "flicker": Num(0.04, 0.0, 1.0, "neon-sign flicker"),
    }

    def setup(self) -> None:
        self.palette = cyclic_palette([bgr01(c) for c in self.p["colors"]])
        self.rng = np.random.default_rng(7)

    def _around(self, f) -> np.ndarray:
        """Angle around the person's centre of mass (turns), so colours travel along the outline."""
        m = f.small
        total = float(m.sum())
        x, y = grid(f.gh, f.gw)
        if total > 1.0:
            cx = float((m.sum(axis=0) * x[0]).sum() / total)
            cy = float((m.sum(axis=1) * y[:, 0]).sum() / total)
        else:
            cx, cy = 0.5, 0.5
        return np.arctan2(y - cy, (x - cx) * (f.w / max(f.h, 1))) * (1 / (2 * math.pi))

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        p, f = self.p, ctx.fields
        flick = 1.0 - p["flicker"] * float(self.rng.random() < 0.15) * self.rng.random()
        offsets = [p["offset"] + i * p["gap"] for i in range(p["lines"])]
        # white-hot cores, crisp: 255 * (1 - |sdf - offset| / width), saturating, in two uint8 ops
        if p["core"] > 0:
            sdf_full = f.sdf_full
            core = None
            for off in offsets:
                line = cv2.bitwise_not(cv2.convertScaleAbs(cv2.absdiff(sdf_full, off), alpha=255.0 / p["width"]))
                core = line if core is None else cv2.max(core, line)
            core = cv2.convertScaleAbs(core, alpha=p["core"] * flick)
            img = cv2.add(img, cv2.merge([core, core, core]))
        # coloured halo and glow on the grid
        idx = ((self._around(f) + ctx.t * p["flow"]) % 1.0 * PALETTE_SIZE).astype(np.int32) % PALETTE_SIZE
        color = np.take(self.palette, idx, axis=0)
        tubes = np.zeros_like(f.sdf)
        reach = 1.0 / (p["width"] + 1.2 * f.scale)
        for off in offsets:
            tubes = np.maximum(tubes, 1.0 - np.abs(f.sdf - off) * reach)
        np.clip(tubes, 0.0, 1.0, out=tubes)
        light = tubes * p["halo"]
        if p["glow"] > 0:
            light = light + blur(tubes, p["glow_radius"] / f.scale) * p["glow"]
        ctx.add_light(color * (light * flick)[..., None])
        return img
