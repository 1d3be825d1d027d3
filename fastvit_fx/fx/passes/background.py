"""Background passes: portrait blur, background replacement, and a soft coloured glow behind the person.

All of them work on the 1/4 grid (or coarser) where the result is smooth and pay full resolution
only for one upsample and one matte composite.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..blend import composite, mix
from ..ops import bgr01, blur, gradient, grid, resize, shrink, to_u8
from ..params import Choice, Colors, File, Num
from ..fields import Fields
from . import Context, Pass, register


def masked_blur(img_small: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: blur only the pixels with weight, so the person's colours do not
    bleed into the blurred background as a halo, and the hole behind them fills from around."""
    w = np.maximum(weight, 1e-4)
    num = blur(img_small * w[..., None], sigma)
    den = blur(w, sigma)[..., None]
    return num / np.maximum(den, 1e-4)


def person_colors(frame_small: np.ndarray, small: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """The person's own colours, spread a little past their edge (grid, float32 BGR 0..255): the
    frame averaged over pixels that are clearly person, filled outward by normalised convolution."""
    clearly = np.clip((small - 0.75) * 4.0, 0.0, 1.0)
    return masked_blur(frame_small.astype(np.float32), clearly, sigma)


def person_grid_box(f: Fields, margin: int = 2) -> tuple[int, int, int, int] | None:
    """Grid box (x0, y0, x1, y1) around every cell the matte touches, `margin` cells wider."""
    rows = np.flatnonzero(f.small.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(f.small[rows[0]:rows[-1] + 1].max(axis=0) > 0)
    return (max(0, cols[0] - margin), max(0, rows[0] - margin),
            min(f.gw, cols[-1] + 1 + margin), min(f.gh, rows[-1] + 1 + margin))


def decontaminate(img: np.ndarray, f: Fields) -> np.ndarray:
    """The frame with the person's edge pixels recoloured from the person's own colours nearby.

    A pixel on the silhouette's soft edge is part person, part old background; composited over a
    new background, the old one's colour shows as a fringe (a light line of wall, a yellow line of
    sofa). Where the matte is strictly between 0 and 1 the colour moves toward the person's (by
    1 - matte^2): the edge keeps its softness but takes the person's colour. Only those pixels are
    touched (a few thousand at 1280x720), so this costs about half a millisecond.
    """
    box = person_grid_box(f, margin=6)  # room for the normalised blur to fill outward
    if box is None:
        return img
    gx0, gy0, gx1, gy1 = box
    x0, y0 = int(gx0 * f.sx), int(gy0 * f.sy)
    x1, y1 = min(f.w, int(np.ceil(gx1 * f.sx))), min(f.h, int(np.ceil(gy1 * f.sy)))
    edge = cv2.findNonZero(cv2.inRange(f.matte[y0:y1, x0:x1], 1, 254))
    if edge is None:
        return img
    edge = edge.reshape(-1, 2)
    xs, ys = edge[:, 0] + x0, edge[:, 1] + y0
    # the person's colours from this image (earlier passes may have graded it), on the grid's cells
    colors = person_colors(shrink(img[y0:y1, x0:x1], (gx1 - gx0, gy1 - gy0)), f.small[gy0:gy1, gx0:gx1])
    u, v = f.to_grid(xs.astype(np.float32), ys.astype(np.float32))
    mx, my = (u - gx0).astype(np.float32)[:, None], (v - gy0).astype(np.float32)[:, None]
    fg = cv2.remap(colors, mx, my, cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)[:, 0]
    keep = (f.matte[ys, xs].astype(np.float32) * np.float32(1 / 255)) ** 2
    out = img.copy()
    pixels = out[ys, xs].astype(np.float32)
    out[ys, xs] = np.clip(fg + (pixels - fg) * keep[:, None] + 0.5, 0, 255).astype(np.uint8)
    return out


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
        # no edge recolouring here (replace-bg has it): the old background in the soft edge is the
        # same room the blurred one shows, so it reads as part of the blur, and it would cost ~2 ms
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
        self._soft: np.ndarray | None = None  # the image, blurred, for the light wrap
        if self.p["source"] == "image" and self.p["image"]:
            self._image = cv2.imread(self.p["image"], cv2.IMREAD_COLOR)
            if self._image is None:
                from ...errors import PresetError

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
        bg, _ = self.backdrop(ctx)
        img = decontaminate(img, f)
        matte = f.matte if self._choke is None else cv2.LUT(f.matte, self._choke)
        if self.p["light_wrap"] <= 0:
            return composite(img, bg, matte)
        wrap = wrap_weight(f.sdf, self.p["wrap_width"], self.p["light_wrap"], f.upsample, matte)
        if self._image is None:  # a gradient is already soft: the wrap just lets more of it in
            return composite(img, bg, cv2.subtract(matte, wrap))
        return mix(composite(img, bg, matte), self._soft_image(bg), wrap)

    def _soft_image(self, bg: np.ndarray) -> np.ndarray:
        """The background image blurred, what light from it looks like on the person (cached)."""
        if self._soft is None or self._soft.shape != bg.shape:
            self._soft = cv2.GaussianBlur(bg, (0, 0), max(4.0, self.p["wrap_width"]))
        return self._soft


def wrap_weight(sdf: np.ndarray, width: float, strength: float, upsample, matte: np.ndarray) -> np.ndarray:
    """Light wrap as a uint8 weight: `strength` at the silhouette's edge, fading over `width`
    pixels inside, and zero outside the matte. The background's light reaches just inside the
    person, so they sit in it; none of it lands outside them, where it would read as a halo."""
    depth = np.maximum(-sdf, 0.0)
    band = np.exp(depth * np.float32(-1.0 / width)) * np.float32(strength)
    return cv2.multiply(upsample(to_u8(band)), matte, scale=1 / 255)


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
