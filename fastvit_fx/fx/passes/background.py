"""Background passes: portrait blur, background replacement, and a soft coloured glow behind the person.

All of them work on the 1/4 grid (or coarser) where the result is smooth and pay full resolution
only for one upsample and one matte composite.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..blend import composite
from ..ops import bgr01, blur, gradient, grid, resize, shrink, to_u8
from ..params import Choice, Colors, File, Num
from . import Context, Pass, register


def masked_blur(img_small: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: blur only the pixels with weight, so the person's colours do not
    bleed into the blurred background as a halo, and the hole behind them fills from around."""
    w = np.maximum(weight, 1e-4)
    num = blur(img_small * w[..., None], sigma)
    den = blur(w, sigma)[..., None]
    return num / np.maximum(den, 1e-4)


@register
class PortraitBlur(Pass):
    name = "blur"
    help = "blur the background like a wide-aperture lens (halo-free)"
    params = {
        "radius": Num(28.0, 1.0, 200.0, "blur sigma in full-res pixels"),
        "where": Choice("background", ("background", "all"), "background keeps the person sharp"),
        "brightness": Num(1.0, 0.0, 2.0, "background exposure"),
    }

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        f = ctx.fields
        # a coarser grid for big radii: the blur hides it and the work shrinks quadratically
        down = 2 if self.p["radius"] >= 16 else 1
        gw, gh = max(2, f.gw // down), max(2, f.gh // down)
        small = shrink(img, (gw, gh)).astype(np.float32)
        sigma = self.p["radius"] / (f.scale * down)
        if self.p["where"] == "background":
            bg_weight = 1.0 - resize(f.small, (gw, gh), area=True)
            bg_weight *= bg_weight  # lean on clearly-background pixels
            blurred = masked_blur(small, bg_weight, sigma)
        else:
            blurred = blur(small, sigma)
        blurred *= self.p["brightness"]
        full = cv2.resize(cv2.convertScaleAbs(blurred), (f.w, f.h), interpolation=cv2.INTER_LINEAR)
        if self.p["where"] == "all":
            return full
        return composite(img, full, f.matte)


def mesh_gradient(h: int, w: int, colors: list[np.ndarray], t: float, drift: float) -> np.ndarray:
    """A soft 'mesh gradient' (float32 HxWx3): a diagonal base gradient with large colour blobs that
    drift slowly - the look of modern wallpapers. Meant for a coarse grid; upsampled it is silky.
    The first colour is the deep end of the base gradient; the others also float as blobs."""
    base = gradient(h, w, colors, angle_deg=35.0)
    x, y = grid(h, w)
    aspect = w / max(h, 1)
    out = base
    for i, c in enumerate(colors[1:], start=1):  # the first stop is the base's deep end: no blob
        phase = 2.399 * i  # golden angle: blobs spread out
        cx = 0.5 + 0.38 * np.cos(phase + drift * t * (0.6 + 0.15 * i))
        cy = 0.5 + 0.36 * np.sin(1.3 * phase + drift * t * (0.5 + 0.1 * i))
        d2 = ((x - cx) * aspect) ** 2 + (y - cy) ** 2
        wgt = np.exp(-d2 / 0.12)[..., None] * 0.7
        out = out * (1 - wgt) + c * wgt
    return out


@register
class ReplaceBackground(Pass):
    name = "background"
    help = "replace the background with an image or a generated gradient, with light wrap"
    params = {
        "source": Choice("gradient", ("gradient", "image"), ""),
        "image": File("", "used when source = \"image\" (relative to the preset file)"),
        "colors": Colors(("#0f2027", "#2c5364", "#ff7e5f", "#feb47b"), 2, "gradient stops"),
        "drift": Num(0.15, 0.0, 3.0, "how fast the gradient's colour blobs wander (gradient only)"),
        "blur": Num(0.0, 0.0, 100.0, "soften the image, full-res pixels"),
        "light_wrap": Num(0.35, 0.0, 1.0, "background light spilling over the person's edge"),
        "choke": Num(0.4, 0.0, 1.0, "tighten the matte's soft edge so no old background shows through"),
        "wrap_width": Num(14.0, 1.0, 80.0, "pixels"),
    }

    def setup(self) -> None:
        self.colors = [bgr01(c) for c in self.p["colors"]]
        k = self.p["choke"]
        if k > 0:  # steeper matte around a slightly raised midpoint
            x = np.arange(256, dtype=np.float32) / 255.0
            self._choke = np.clip(((x - 0.5 - 0.1 * k) * (1 + 2 * k) + 0.5) * 255 + 0.5, 0, 255).astype(np.uint8)
        else:
            self._choke = None
        self._image: np.ndarray | None = None
        self._cache: tuple | None = None  # (key, full-res bg, grid bg)
        if self.p["source"] == "image" and self.p["image"]:
            self._image = cv2.imread(self.p["image"], cv2.IMREAD_COLOR)
            if self._image is None:
                from ..errors import PresetError

                raise PresetError(f"{self.p['image']}: not a readable image")

    def _cover(self, h: int, w: int) -> np.ndarray:
        """The image scaled to cover the frame, centre-cropped."""
        ih, iw = self._image.shape[:2]
        s = max(w / iw, h / ih)
        nw, nh = max(w, int(round(iw * s))), max(h, int(round(ih * s)))
        big = cv2.resize(self._image, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        y0, x0 = (nh - h) // 2, (nw - w) // 2
        out = big[y0:y0 + h, x0:x0 + w]
        if self.p["blur"] > 0:
            out = cv2.GaussianBlur(out, (0, 0), self.p["blur"])
        return np.ascontiguousarray(out)

    def backdrop(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        """(full-res uint8 background, grid float32 background) for this frame."""
        f = ctx.fields
        if self._image is not None or self.p["drift"] == 0:
            key = (f.h, f.w)
            if self._cache is None or self._cache[0] != key:
                if self._image is not None:
                    full = self._cover(f.h, f.w)
                else:
                    small = mesh_gradient(max(2, f.gh // 4), max(2, f.gw // 4), self.colors, 0.0, 0.0)
                    full = cv2.resize(to_u8(small), (f.w, f.h), interpolation=cv2.INTER_CUBIC)
                grid = cv2.resize(full, (f.gw, f.gh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
                self._cache = (key, full, grid)
            return self._cache[1], self._cache[2]
        small = mesh_gradient(max(2, f.gh // 4), max(2, f.gw // 4), self.colors, ctx.t, self.p["drift"])
        full = cv2.resize(to_u8(small), (f.w, f.h), interpolation=cv2.INTER_LINEAR)
        return full, resize(small, (f.gw, f.gh))

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        f = ctx.fields
        bg, bg_grid = self.backdrop(ctx)
        matte = f.matte if self._choke is None else cv2.LUT(f.matte, self._choke)
        out = composite(img, bg, matte)
        if self.p["light_wrap"] > 0:
            # light from the new background wraps just inside the silhouette, so the person sits in it
            depth = np.clip(-f.sdf, 0, None)
            band = np.exp(-depth * (1.0 / self.p["wrap_width"])) * f.small
            ctx.add_light(blur(bg_grid, 2.0) * (band * self.p["light_wrap"])[..., None])
        return out


@register
class BackdropGlow(Pass):
    name = "backdrop_glow"
    help = "a soft gradient glow behind the person (lights the background, not them)"
    additive = True
    params = {
        "colors": Colors(("#ff3d7f", "#7b5cff", "#00c2ff"), 1, "across the frame, left to right"),
        "radius": Num(120.0, 5.0, 600.0, "glow spread, full-res pixels"),
        "strength": Num(1.2, 0.0, 4.0),
        "hue_drift": Num(0.0, 0.0, 1.0, "turns per second the colours cycle (0 = fixed)"),
        "pulse": Num(0.15, 0.0, 1.0, "slow breathing of the glow"),
    }

    def setup(self) -> None:
        self.colors = [bgr01(c) for c in self.p["colors"]]
        self._ramp: np.ndarray | None = None

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        f = ctx.fields
        if self._ramp is None or self._ramp.shape[:2] != (f.gh, f.gw):
            self._ramp = gradient(f.gh, f.gw, self.colors, angle_deg=0.0) if len(self.colors) > 1 else \
                np.broadcast_to(self.colors[0], (f.gh, f.gw, 3)).astype(np.float32)
        ramp = self._ramp
        if self.p["hue_drift"] > 0:
            ramp = np.roll(ramp, int(ctx.t * self.p["hue_drift"] * f.gw) % f.gw, axis=1)
        glow = blur(f.small, self.p["radius"] / f.scale)  # wide: blur() works on a smaller copy
        glow *= self.p["strength"] * (1.0 + self.p["pulse"] * math.sin(ctx.t * 1.3))
        glow *= 1.0 - f.small  # behind the person: the grid matte lets a little wrap their edge
        ctx.add_light(ramp * glow[..., None])
        return img
