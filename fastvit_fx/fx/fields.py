"""Shared per-frame fields, computed once from (frame, mask) and read by every pass.

Smooth quantities (signed distance, normals, motion) live on a grid at 1/`scale` of the frame,
which is 16x fewer pixels at scale 4 and plenty for light and collisions; only the matte used for
compositing is kept at full resolution. Each field is computed on first use and cached, so a
preset pays only for what its passes read. Distances are in full-resolution pixels everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from .ops import shrink

# The segmenter's mask is soft in two different ways: a true silhouette edge crosses from 0 to 1 in
# a few pixels, while its mistakes (a sliver of sofa beside an arm, a faint ghost of a lamp above
# the head) sit at 0.1-0.5 over whole regions. Compositing by the raw mask shows those as
# translucent slivers and light halos, so the matte passes composite with is the mask through a
# smoothstep that drops what the segmenter is unsure of and keeps the person solid.
MATTE_LOW, MATTE_HIGH = 0.4, 0.8


def matte_curve(low: float = MATTE_LOW, high: float = MATTE_HIGH) -> np.ndarray:
    """uint8 lookup table (256) for cv2.LUT: a smoothstep from mask `low` (0) to `high` (255)."""
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"matte curve needs 0 <= low < high <= 1, got {low}, {high}")
    x = np.arange(256, dtype=np.float32) / 255.0
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return np.round(t * t * (3.0 - 2.0 * t) * 255.0).astype(np.uint8)


_MATTE_LUT = matte_curve()


def signed_distance(mask_small: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Signed distance in grid pixels to the 0.5 level of a soft mask: negative inside, positive outside.

    Far from the edge: distance transforms of both sides (5x5 chamfer, within ~2% of Euclidean),
    half a pixel added because the boundary lies between pixel centres. Near the edge that is a
    staircase on slanted edges, which would show as stripes in any lighting, so there the distance
    comes from the mask itself: blurred with a Gaussian of `sigma`, a straight edge becomes the
    normal CDF of the distance, inverted here with the logistic approximation. The two agree where
    they are blended, so the field is smooth and sub-pixel accurate across the edge.
    A mask with no boundary returns +/- a large constant (the grid's diagonal).
    """
    h, w = mask_small.shape
    inside = (mask_small >= 0.5).astype(np.uint8)
    far = float(np.hypot(h, w))
    count = int(cv2.countNonZero(inside))
    if count == 0:
        return np.full((h, w), far, np.float32)
    if count == h * w:
        return np.full((h, w), -far, np.float32)
    d_out = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    d_in = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    sdf = d_out - d_in + np.where(inside > 0, 0.5, -0.5).astype(np.float32)
    if sigma > 0:
        k = int(3 * sigma) * 2 + 1
        soft = cv2.GaussianBlur(mask_small, (k, k), sigma, borderType=cv2.BORDER_REPLICATE)
        m = np.clip(soft, 0.02, 0.98)
        near = np.log((1.0 - m) / m) * np.float32(sigma / 1.702)  # probit ~ logit / 1.702
        # trust the edge estimate where the blurred mask is clearly in transition
        wgt = 1.0 - np.abs(2.0 * soft - 1.0)
        wgt = np.clip(wgt * 2.5, 0.0, 1.0)
        sdf = sdf + (near - sdf) * wgt
    return sdf


def unit_gradient(field: np.ndarray, spacing: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx, gy, |g|) of a scalar field; (gx, gy) normalised where the gradient is non-zero.

    For a signed distance this is the outward surface normal; it fades to zero on the medial axis
    and where the field is flat (no silhouette at all).
    """
    gx = cv2.Sobel(field, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE) * (0.125 / spacing)
    gy = cv2.Sobel(field, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) * (0.125 / spacing)
    mag = cv2.magnitude(gx, gy)
    inv = 1.0 / np.maximum(mag, 1e-3)
    inv[mag < 1e-3] = 0.0
    return gx * inv, gy * inv, mag


def bilinear(field: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample a 2D grid at float grid coordinates (u across, v down), clamped at the borders."""
    h, w = field.shape
    u = np.clip(u, 0.0, w - 1.001)
    v = np.clip(v, 0.0, h - 1.001)
    x0 = u.astype(np.int32)
    y0 = v.astype(np.int32)
    fx = (u - x0).astype(np.float32)
    fy = (v - y0).astype(np.float32)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    top = field[y0, x0] * (1 - fx) + field[y0, x1] * fx
    bottom = field[y1, x0] * (1 - fx) + field[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


@dataclass
class FieldHistory:
    """What motion needs from the previous frame (kept by the renderer, cleared on reset)."""

    small: np.ndarray | None = None
    sdf: np.ndarray | None = None
    grey: np.ndarray | None = None

    def update(self, fields: "Fields") -> None:
        cache = fields.__dict__  # only keep what this preset actually computed (none: nothing)
        self.small = cache.get("small")
        self.sdf = cache.get("sdf")
        self.grey = cache.get("grey_small")

    def clear(self) -> None:
        self.small = self.sdf = self.grey = None


class Fields:
    """Per-frame fields. Full resolution: `mask`, `mask_u8` (the mask as uint8), `matte` (uint8,
    what compositing uses: the mask with its unsure tails dropped), `matte3`. Grid (1/scale):
    `small`, `sdf`, `nx`/`ny` (outward normal), `edge`, `motion`, `surface_speed`, `grey_small`.

    Use `to_grid(x, y)` / `sample(field, x, y)` to read grid fields at full-res pixel positions and
    `upsample(layer)` to bring a grid layer back to the frame's size.
    """

    def __init__(self, frame: np.ndarray, mask: np.ndarray, history: FieldHistory | None = None,
                 dt: float = 1 / 30, scale: int = 4, edge_width: float = 12.0,
                 frame_motion: float = 0.5) -> None:
        self.frame = frame
        self.mask = mask
        self.h, self.w = mask.shape
        self.gw = max(2, int(round(self.w / scale)))
        self.gh = max(2, int(round(self.h / scale)))
        self.sx = self.w / self.gw  # full-res pixels per grid pixel, per axis
        self.sy = self.h / self.gh
        self.scale = 0.5 * (self.sx + self.sy)
        self.history = history or FieldHistory()
        self.dt = dt
        self.edge_width = edge_width
        self.frame_motion = frame_motion

    # ---- full resolution ---------------------------------------------------------------------
    @cached_property
    def mask_u8(self) -> np.ndarray:
        """The mask as it came, uint8 0..255 (the debug view shows this)."""
        return cv2.convertScaleAbs(self.mask, alpha=255.0)

    @cached_property
    def matte(self) -> np.ndarray:
        """What compositing multiplies by, uint8 0..255: the mask through `matte_curve`, solid on
        the person, 0 where the segmenter was unsure (below MATTE_LOW)."""
        return cv2.LUT(self.mask_u8, _MATTE_LUT)

    @cached_property
    def matte3(self) -> np.ndarray:
        return cv2.merge([self.matte] * 3)

    # ---- grid ----------------------------------------------------------------------------------
    @cached_property
    def small(self) -> np.ndarray:
        """The matte on the grid, float32 0..1 (area-averaged: a coverage fraction). From the
        matte, not the raw mask, so every field (distance, normals, outlines, collisions) agrees
        with what is composited: a faint ghost the matte drops gets no outline or light either."""
        return shrink(self.matte, (self.gw, self.gh)).astype(np.float32) * np.float32(1 / 255)

    @cached_property
    def grey_small(self) -> np.ndarray:
        """Frame luminance on the grid, float32 0..1."""
        return cv2.cvtColor(self.frame_small, cv2.COLOR_BGR2GRAY).astype(np.float32) * (1 / 255)

    @cached_property
    def frame_small(self) -> np.ndarray:
        """The frame on the grid, uint8 BGR."""
        return shrink(self.frame, (self.gw, self.gh))

    @cached_property
    def sdf(self) -> np.ndarray:
        """Signed distance to the silhouette in full-res pixels (negative inside)."""
        # a light blur on top: a distance field's straight runs survive it unchanged
        sdf = signed_distance(self.small)
        return cv2.GaussianBlur(sdf, (3, 3), 0.8) * np.float32(self.scale)

    @cached_property
    def _normals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # normals from a smoother copy: they turn gently even where the two distance estimates meet
        return unit_gradient(cv2.GaussianBlur(self.sdf, (5, 5), 1.2), self.scale)

    @property
    def nx(self) -> np.ndarray:
        """Outward unit normal, x component (0 where undefined)."""
        return self._normals[0]

    @property
    def ny(self) -> np.ndarray:
        """Outward unit normal, y component (down is +y, so a head's top has ny ~ -1)."""
        return self._normals[1]

    @property
    def normal_strength(self) -> np.ndarray:
        """|gradient| of the smoothed distance: ~1 where the normal is well defined, falling toward
        0 on the medial axis (the middle of an arm) where normals from both sides meet and flip."""
        return self._normals[2]

    @cached_property
    def inside(self) -> np.ndarray:
        """A smooth 0..1 inside-ness on the grid from the distance field (one grid cell of ramp).
        Use it, not `small`, to limit grid light to the person: `small` is the exact coverage,
        which jumps with the edge's sub-cell position and upsamples into beads along the edge."""
        return np.clip(0.5 - self.sdf * np.float32(1.0 / self.scale), 0.0, 1.0)

    @cached_property
    def edge(self) -> np.ndarray:
        """Band around the silhouette edge: 1 on the edge, 0 beyond `edge_width` pixels."""
        return np.clip(1.0 - np.abs(self.sdf) * (1.0 / self.edge_width), 0.0, 1.0)

    @cached_property
    def motion(self) -> np.ndarray:
        """0..1 where the person moved since the last frame: mask change, plus frame difference near them."""
        prev = self.history
        if prev.small is None or prev.small.shape != self.small.shape:
            return np.zeros_like(self.small)
        change = cv2.absdiff(self.small, prev.small) * 3.0
        if self.frame_motion > 0 and prev.grey is not None and prev.grey.shape == self.small.shape:
            near = cv2.dilate(self.small, np.ones((5, 5), np.uint8))  # frame noise far from them is not theirs
            change += cv2.absdiff(self.grey_small, prev.grey) * near * (4.0 * self.frame_motion)
        change = cv2.GaussianBlur(change, (5, 5), 0)
        return np.minimum(change, 1.0, out=change)

    @cached_property
    def mask_delta(self) -> np.ndarray:
        """Signed mask change on the grid since the last frame: + where the person arrived, - where they left."""
        prev = self.history.small
        if prev is None or prev.shape != self.small.shape:
            return np.zeros_like(self.small)
        return self.small - prev

    @cached_property
    def surface_speed(self) -> np.ndarray:
        """Speed of the silhouette's surface along its outward normal, full-res px/s (> 0: coming at you)."""
        prev = self.history.sdf
        sdf = self.sdf
        if prev is None or prev.shape != sdf.shape or self.dt <= 0:
            return np.zeros_like(sdf)
        speed = (prev - sdf) * np.float32(1.0 / self.dt)
        # only meaningful near the surface; far away a distance jump is not a surface velocity
        speed *= np.abs(sdf) < 6 * self.scale
        return np.clip(speed, -4000.0, 4000.0, out=speed)

    # ---- helpers -------------------------------------------------------------------------------
    def to_grid(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-res pixel coordinates -> grid coordinates (pixel centres aligned as cv2.resize does)."""
        return (x + 0.5) * (1.0 / self.sx) - 0.5, (y + 0.5) * (1.0 / self.sy) - 0.5

    def sample(self, field: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u, v = self.to_grid(x, y)
        return bilinear(field, u, v)

    def upsample(self, layer: np.ndarray) -> np.ndarray:
        """Grid layer -> frame size, bilinear."""
        return cv2.resize(layer, (self.w, self.h), interpolation=cv2.INTER_LINEAR)

    @cached_property
    def sdf_full(self) -> np.ndarray:
        return self.upsample(self.sdf)
