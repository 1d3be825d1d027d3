"""Reflective light on the person: rim light, a glossy sheen, liquid chrome.

The silhouette's signed distance gives a surface: depth inside the edge becomes a rounded height
(a bevel), its gradient the surface normal. Light is computed on the 1/4 grid and queued as
additive light (ctx.add_light), so a preset's glows and rims cost one upsample together.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..blend import composite
from ..ops import bgr01, blur, grid, to_u8
from ..params import Choice, Color, Num
from . import Context, Pass, register


def bevel(sdf: np.ndarray, radius: float) -> np.ndarray:
    """Rounded height (0..1) from depth inside the silhouette: a quarter circle of `radius` pixels,
    steep at the edge and flat in the middle, like an inflated shape."""
    u = np.clip(-sdf * (1.0 / radius), 0.0, 1.0)
    one_minus = 1.0 - u
    return np.sqrt(np.maximum(1.0 - one_minus * one_minus, 0.0))


def fresnel_edge(sdf: np.ndarray, radius: float) -> np.ndarray:
    """1 at the silhouette's edge fading to 0 at `radius` inside: grazing angles reflect more."""
    u = np.clip(1.0 + sdf * (1.0 / radius), 0.0, 1.0)
    return u * u


def add_on_person(img: np.ndarray, layer_grid: np.ndarray, ctx: Context) -> np.ndarray:
    """Add a grid light layer to the person only, cut crisply by the full-resolution matte.

    The layer should extend a little past the silhouette: the matte, not the grid, makes the edge
    (a one-cell edge on the grid upsamples into 4-pixel stairs on slanted lines)."""
    f = ctx.fields
    light = cv2.multiply(f.upsample(to_u8(layer_grid)), f.matte3, scale=1 / 255)
    return cv2.add(img, light)


def relief(grey: np.ndarray, fine: float = 1.5, coarse: float = 8.0) -> np.ndarray:
    """Local relief from brightness (grid): the features (folds, a face, pockets), without the
    frame's overall lighting. A person lit from one side is brighter on that side; as height, that
    slope would tilt the whole body's surface one way and light its halves differently."""
    return blur(grey, fine) - blur(grey, coarse)


def _pow(x: np.ndarray, p: float) -> np.ndarray:
    return x * x if p == 2.0 else (x if p == 1.0 else np.power(x, p))


def _color3(a: np.ndarray, ca: np.ndarray, b: np.ndarray | None = None, cb: np.ndarray | None = None) -> np.ndarray:
    """a * colour_a (+ b * colour_b) as HxWx3 float32, channel by channel (cheaper than broadcasting)."""
    chans = [a * float(ca[c]) + (b * float(cb[c]) if b is not None else 0.0) for c in range(3)]
    return cv2.merge(chans)


@register
class RimLight(Pass):
    name = "rim_light"
    help = "coloured light wrapping the silhouette's edge from an orbiting direction, with bloom"
    additive = True
    params = {
        "color": Color("#ffb347", "key light"),
        "color2": Color("#3fa9ff", "kicker from the opposite side"),
        "width": Num(10.0, 1.0, 120.0, "how far the rim reaches inside the edge, pixels"),
        "strength": Num(1.0, 0.0, 5.0),
        "balance": Num(0.8, 0.0, 2.0, "kicker strength relative to the key"),
        "orbit_speed": Num(0.45, -10.0, 10.0, "radians per second the light circles"),
        "angle": Num(-60.0, -360.0, 360.0, "light direction at t = 0, degrees (0 = from the right, -90 = from above)"),
        "sharpness": Num(2.0, 0.5, 16.0, "how narrowly the light faces its direction"),
        "fill": Num(0.12, 0.0, 2.0, "how much the key light reaches across the body"),
        "bloom": Num(0.8, 0.0, 4.0),
        "bloom_radius": Num(24.0, 1.0, 200.0, "pixels"),
    }

    def setup(self) -> None:
        self.c1 = bgr01(self.p["color"])
        self.c2 = bgr01(self.p["color2"])

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        p, f = self.p, ctx.fields
        a = math.radians(p["angle"]) + p["orbit_speed"] * ctx.t
        lx, ly = math.cos(a), math.sin(a)
        # normal . light direction, faded out on the medial axis where the normal flips sides
        facing = (f.nx * lx + f.ny * ly) * np.clip((f.normal_strength - 0.35) * 2.0, 0.0, 1.0)
        depth = np.maximum(-f.sdf, 0.0)
        band = np.exp(depth * (-1.0 / p["width"]))
        body = np.exp(depth * (-1.0 / (p["width"] * 8))) * p["fill"]
        on = p["strength"]
        key = _pow(np.clip(facing, 0.0, 1.0), p["sharpness"]) * (band + body) * on
        kick = _pow(np.clip(-facing, 0.0, 1.0), p["sharpness"]) * band * (on * p["balance"])
        rim = _color3(key, self.c1, kick, self.c2)  # runs past the edge; the matte cuts it
        if p["bloom"] > 0:  # the glow spills outside: queued grid light
            ctx.add_light(blur(rim * f.inside[..., None], p["bloom_radius"] / f.scale) * p["bloom"])
        return add_on_person(img, rim, ctx)


@register
class Sheen(Pass):
    name = "sheen"
    help = "a glossy specular band sweeping diagonally across the person"
    additive = True
    params = {
        "color": Color("#ffffff"),
        "angle": Num(30.0, -180.0, 180.0, "sweep direction, degrees from horizontal"),
        "width": Num(0.025, 0.005, 1.0, "band width as a fraction of the frame's diagonal"),
        "period": Num(3.0, 0.2, 60.0, "seconds between sweeps"),
        "strength": Num(0.7, 0.0, 3.0),
        "curvature": Num(0.15, 0.0, 1.0, "how much the band bends around the rounded body"),
        "bevel": Num(70.0, 2.0, 400.0, "roundness of the body, pixels"),
        "edge_gloss": Num(0.0, 0.0, 2.0, "constant gloss along the silhouette's edge"),
        "soft_glow": Num(0.12, 0.0, 2.0, "a wide soft halo around the band"),
    }

    def setup(self) -> None:
        self.color = bgr01(self.p["color"])
        self._coord: np.ndarray | None = None

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        p, f = self.p, ctx.fields
        if self._coord is None or self._coord.shape != (f.gh, f.gw):
            x, y = grid(f.gh, f.gw)
            a = math.radians(p["angle"])
            aspect = f.w / max(f.h, 1)
            s = x * aspect * math.cos(a) + y * math.sin(a)
            s = (s - s.min()) / max(float(s.max() - s.min()), 1e-6)  # 0..1 along the sweep
            self._coord = s.astype(np.float32)
        height = bevel(f.sdf, p["bevel"])
        # the band rides over the rounded surface: bending it by height makes it curve like a reflection
        s = self._coord - p["curvature"] * height
        margin = 8 * p["width"] + p["curvature"]
        phase = (ctx.t / p["period"]) % 1.0 * (1 + 2 * margin) - margin
        x = (s - phase) * (1.0 / p["width"])
        x2 = x * x
        # a sharp streak, a thinner echo trailing it (two reflections, like a lacquered surface),
        # and a soft wide halo
        echo = x + 2.8
        band = np.exp(-x2) + 0.45 * np.exp(echo * echo * -2.5) + p["soft_glow"] * np.exp(x2 * -0.04)
        edge = fresnel_edge(f.sdf, 2.5 * f.scale)
        gloss = band * (0.6 + 0.5 * edge) + edge * p["edge_gloss"]
        gloss *= 1.0 - 0.65 * f.grey_small  # screen-like: light adds less where it is already bright
        gloss *= p["strength"]
        return add_on_person(img, _color3(gloss, self.color), ctx)


def studio_matcap(size: int = 160, warm: str = "#ffe2bd", cool: str = "#d2e4fa",
                  horizon: float = -0.45) -> np.ndarray:
    """A chrome sphere in a photo studio (float32 size x size x 3, BGR): what a mirror ball shows.

    Indexed by the surface normal's (x, y), like a matcap. The environment: a bright sky above,
    two tall softboxes left and right, a dark horizon line, a warm grey floor below; grazing angles
    (the sphere's rim) reflect more (Fresnel), so outlines glow instead of going black.

    A person's surface faces the camera almost everywhere, so what the middle of the sphere shows
    is what most of the body shows. The horizon sits well below the middle (`horizon`, as the
    reflected ray's elevation): the front of the body reflects sky, and only surfaces turned
    clearly downward reflect the floor. With the horizon through the middle, small tilts of the
    body's surface flip it between sky and floor, and a body reads as half silver, half brown.
    The environment is symmetric left to right, so the two halves of a body match.
    """
    x, y = np.meshgrid(np.linspace(-1, 1, size, dtype=np.float32), np.linspace(-1, 1, size, dtype=np.float32))
    r2 = np.minimum(x * x + y * y, 1.0)
    nz = np.sqrt(1.0 - r2)
    rx, ry, rz = 2 * nz * x, 2 * nz * y, 2 * nz * nz - 1  # view ray (0, 0, -1) reflected
    elev = -ry / np.maximum(np.sqrt(rx * rx + ry * ry + rz * rz), 1e-6)  # up is -y in the image
    above = elev > horizon
    height = np.clip((elev - horizon) / (1.0 - horizon), 0, 1)  # 0 at the horizon, 1 straight up
    sky = 0.3 + 0.6 * height ** 1.5
    floor = 0.42 - 0.12 * np.clip((horizon - elev) / (1.0 + horizon), 0, 1)
    line = 0.35 + 0.65 * np.clip(np.abs(elev - horizon) * 8.0, 0, 1)  # a thin dark horizon
    base = np.where(above, sky, floor) * line
    boxes = sum(np.exp(-((rx - cx) / 0.16) ** 2) * np.clip((elev - horizon) * 3, 0, 1) for cx in (-0.75, 0.75))
    fresnel = r2 ** 3 * 0.3
    tone = np.clip(base + 0.7 * boxes + fresnel, 0, 1.5)
    color = np.where(above[..., None], bgr01(cool), bgr01(warm))
    return (tone[..., None] * (0.55 + 0.45 * color)).astype(np.float32)


@register
class Chrome(Pass):
    name = "chrome"
    help = "the person as liquid metal: reflections of a studio (or the background) and a moving highlight"
    params = {
        "tint": Color("#e8eef5", "metal colour (silver; try #ffd27a for gold)"),
        "env": Choice("studio", ("studio", "background"), "what the metal reflects"),
        "bevel": Num(50.0, 2.0, 400.0, "roundness at the edges, pixels"),
        "inflate": Num(1.0, 0.0, 5.0, "overall bulge of the body, so broad areas reflect too"),
        "bump": Num(0.8, 0.0, 10.0, "surface relief from the image's shading"),
        "detail": Num(0.3, 0.0, 1.0, "how much of the person's own shading shows through"),
        "env_speed": Num(0.4, -5.0, 5.0, "how fast the reflections sway"),
        "light_speed": Num(0.8, -10.0, 10.0, "radians per second the highlight circles"),
        "shininess": Num(160.0, 1.0, 500.0, "Blinn-Phong exponent: higher, a smaller highlight"),
        "specular": Num(1.0, 0.0, 4.0),
    }

    def setup(self) -> None:
        self.tint = bgr01(self.p["tint"])
        self.matcap = studio_matcap()

    def normals(self, ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Surface normal from a height field: a rounded bevel at the edges, a broad bulge from the
        blurred mask, and relief from the image's (blurred) brightness."""
        f, p = ctx.fields, self.p
        big = 0.12 * max(f.gw, f.gh)  # bulge radius on the grid
        height = bevel(f.sdf, p["bevel"]) * (p["bevel"] / f.scale)
        if p["inflate"] > 0:
            height = height + blur(f.small, big, smooth=True) * (big * 0.9 * p["inflate"])
        if p["bump"] > 0:  # brighter reads as nearer, so features bulge
            height = height + relief(f.grey_small) * (6.0 * p["bump"])
        # a mirror shows every kink of its surface: smooth the height before differentiating
        height = cv2.GaussianBlur(height, (5, 5), 1.2)
        gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) * 0.125
        gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) * 0.125
        inv = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
        return -gx * inv, -gy * inv, inv

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        f, p = ctx.fields, self.p
        nx, ny, nz = self.normals(ctx)
        if p["env"] == "studio":
            # the softboxes breathe in and out together, so reflections slide across the body and
            # its two halves stay alike (turning or shifting the studio lights one side, then the other)
            spread = 1.0 + 0.12 * math.sin(p["env_speed"] * ctx.t)
            size = self.matcap.shape[0]
            k = 0.5 * (size - 1) * 0.995
            mx = np.clip(nx * spread, -1.0, 1.0) * k + k
            my = ny * k + k
            env = cv2.remap(self.matcap, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        else:
            # reflect the blurred surroundings: look up the background offset along the normal
            bg = blur(f.frame_small.astype(np.float32) * (1 / 255), 3.0)
            u, v = grid(f.gh, f.gw)
            k = 0.35 * max(f.gw, f.gh)
            mx = (u * f.gw - 0.5 + nx * k).astype(np.float32)
            my = (v * f.gh - 0.5 + ny * k).astype(np.float32)
            env = cv2.remap(bg, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            env = env * 0.85 + 0.2 * (1 - nz[..., None])
        # Blinn-Phong from a light circling in front: H = normalize(L + V)
        a = p["light_speed"] * ctx.t
        lx, ly, lz = 0.4 * math.cos(a), 0.3 * math.sin(a) - 0.35, 0.75
        hx, hy, hz = lx, ly, lz + 1.0
        hn = 1.0 / math.sqrt(hx * hx + hy * hy + hz * hz)
        ndoth = np.clip((nx * hx + ny * hy + nz * hz) * hn, 0.0, 1.0)
        spec = np.power(ndoth, p["shininess"]) * p["specular"]
        metal = env * self.tint + spec[..., None]
        metal_u8 = f.upsample(to_u8(metal))
        if p["detail"] <= 0:
            return composite(metal_u8, img, f.matte)
        # the person's own shading at full resolution keeps their features readable; folded into
        # the matte (one single-channel multiply) so the composite stays two 3-channel multiplies.
        # Only the local shading: less the frame's broad light (from the grid), so a person lit
        # from one side is not bright metal on that side and dull on the other
        grey = cv2.cvtColor(ctx.frame, cv2.COLOR_BGR2GRAY)
        broad = f.upsample(to_u8(blur(f.grey_small, 6.0)))
        gain = p["detail"] * 1.5
        # 110: a person's typical grey, so an evenly lit person keeps the weight the plain grey gave
        shade = cv2.addWeighted(grey, gain, broad, -gain, 255 * (1 - p["detail"]) * 0.9 + gain * 110)
        weight = cv2.multiply(shade, f.matte, scale=1 / 255)
        return cv2.add(cv2.multiply(img, cv2.bitwise_not(f.matte3), scale=1 / 255),
                       cv2.multiply(metal_u8, cv2.merge([weight] * 3), scale=1 / 255))
