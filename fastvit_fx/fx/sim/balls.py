"""Bouncing balls: gravity, restitution and friction against the silhouette (through its signed
distance and normals), the frame's walls and each other. The silhouette's own motion (the
change of its distance field) is a moving wall: swat a ball and it flies."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..fields import Fields


def ball_sprite(radius: float, color_bgr01: np.ndarray, ss: int = 3) -> tuple[np.ndarray, np.ndarray, int]:
    """A glossy shaded sphere with a soft drop shadow: (premultiplied BGR float32, alpha float32, pad).

    Rendered at `ss`x and area-downsampled, so the rim is anti-aliased."""
    pad = int(math.ceil(radius * 0.45)) + 2
    size = int(math.ceil(2 * radius)) + 2 * pad
    n = size * ss
    c = (size / 2.0) * ss
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    rs = radius * ss
    dx, dy = (x - c) / rs, (y - c) / rs
    r2 = dx * dx + dy * dy
    inside = (r2 <= 1.0).astype(np.float32)
    nz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    # key light upper-left, warm bounce from below, specular hotspot
    lx, ly, lz = -0.45, -0.6, 0.66
    diffuse = np.clip(dx * lx + dy * ly + nz * lz, 0.0, 1.0)
    bounce = np.clip(dy * 0.8 + nz * 0.2, 0.0, 1.0) * 0.25
    hx, hy, hz = lx, ly, lz + 1.0
    hn = math.sqrt(hx * hx + hy * hy + hz * hz)
    spec = np.clip((dx * hx + dy * hy + nz * hz) / hn, 0.0, 1.0) ** 70 * 1.1
    rim = (1.0 - nz) ** 3 * 0.35
    col = np.asarray(color_bgr01, np.float32)
    rgb = col * (0.18 + 0.85 * diffuse + bounce)[..., None] + (spec + rim * 0.5)[..., None]
    # shadow: a dark blurred disc offset down-right, under the ball
    sx, sy = (x - c - 0.18 * rs) / (rs * 1.05), (y - c - 0.28 * rs) / (rs * 1.05)
    shadow = np.clip(1.0 - (sx * sx + sy * sy), 0.0, 1.0) ** 1.5 * 0.45
    alpha = inside + (1.0 - inside) * shadow
    rgb = rgb * inside[..., None]  # premultiplied: the shadow is black
    rgb = cv2.resize(np.clip(rgb, 0, 1.5), (size, size), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, (size, size), interpolation=cv2.INTER_AREA)
    return rgb * 255.0, alpha, pad


class Balls:
    def __init__(self, count: int = 10, radius: float = 34.0, radius_jitter: float = 0.35,
                 gravity: float = 1700.0, restitution: float = 0.78, friction: float = 0.08,
                 kick: float = 1.2, colors: list[np.ndarray] | None = None, relaunch: float = 5.0,
                 seed: int = 1) -> None:
        self.count = int(count)
        self.radius0 = radius
        self.radius_jitter = radius_jitter
        self.gravity = gravity
        self.restitution = restitution
        self.friction = friction
        self.kick = kick
        self.colors = colors or [np.array(c, np.float32) for c in
                                 ((0.2, 0.3, 1.0), (1.0, 0.6, 0.1), (0.2, 0.85, 0.3), (0.1, 0.8, 1.0), (0.9, 0.3, 0.9))]
        self.relaunch = relaunch
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.shape: tuple[int, int] | None = None
        self.sprites: list | None = None

    def _init(self, h: int, w: int) -> None:
        n, rng = self.count, self.rng
        self.shape = (h, w)
        self.unit = h / 720.0
        self.r = (self.radius0 * self.unit * rng.uniform(1 - self.radius_jitter, 1 + self.radius_jitter, n)).astype(np.float32)
        self.r = np.maximum(self.r, 2.0)
        self.x = rng.uniform(self.r, np.maximum(w - self.r, self.r + 1)).astype(np.float32)
        self.y = (-rng.uniform(0.1, 1.2, n) * h).astype(np.float32)  # a shower from above to start
        self.vx = rng.normal(0, 120, n).astype(np.float32) * self.unit
        self.vy = np.zeros(n, np.float32)
        self.rest = np.zeros(n, np.float32)  # seconds spent still on the floor
        self.color_index = np.arange(n) % len(self.colors)
        self.sprites = [ball_sprite(float(self.r[i]), self.colors[self.color_index[i]]) for i in range(n)]

    def step(self, f: Fields, dt: float, t: float) -> None:
        h, w = f.h, f.w
        if self.shape != (h, w):
            self._init(h, w)
        if dt <= 0:
            return
        dt = min(dt, 0.1)
        vmax = 3000.0 * self.unit
        # sub-steps: no ball moves more than ~40% of its radius per sub-step (no tunnelling through arms)
        speed = float(np.max(np.hypot(self.vx, self.vy))) + self.gravity * self.unit * dt
        steps = int(min(8, max(1, math.ceil(speed * dt / (0.4 * float(self.r.min()))))))
        h_dt = dt / steps
        surface = f.surface_speed * np.float32(self.kick)
        e, mu = self.restitution, self.friction
        for _ in range(steps):
            self.vy += self.gravity * self.unit * h_dt
            self.x += self.vx * h_dt
            self.y += self.vy * h_dt
            # the person: a moving wall with normal n and normal speed u
            d = f.sample(f.sdf, self.x, self.y)
            hit = d < self.r
            if hit.any():
                i = np.flatnonzero(hit)
                nx = f.sample(f.nx, self.x[i], self.y[i])
                ny = f.sample(f.ny, self.x[i], self.y[i])
                norm = np.sqrt(nx * nx + ny * ny)
                nx = np.where(norm > 1e-3, nx / np.maximum(norm, 1e-3), 0.0)
                ny = np.where(norm > 1e-3, ny / np.maximum(norm, 1e-3), -1.0)
                push = self.r[i] - d[i]
                self.x[i] += nx * push
                self.y[i] += ny * push
                u = np.maximum(f.sample(surface, self.x[i], self.y[i]), 0.0)
                vn = self.vx[i] * nx + self.vy[i] * ny
                rel = vn - u
                imp = np.where(rel < 0, -(1.0 + e) * rel, 0.0)
                tx, ty = self.vx[i] - vn * nx, self.vy[i] - vn * ny
                self.vx[i] += imp * nx - tx * mu
                self.vy[i] += imp * ny - ty * mu
            self._collide_pairs(e)
            self._walls(w, h, e, mu)  # last: a pair push never leaves a ball outside the frame
        np.clip(self.vx, -vmax, vmax, out=self.vx)
        np.clip(self.vy, -vmax, vmax, out=self.vy)
        # balls that sit still on the floor for a while pop back in from the top
        on_floor = (self.y >= h - self.r - 1.0) & (np.abs(self.vx) + np.abs(self.vy) < 40 * self.unit)
        self.rest = np.where(on_floor, self.rest + dt, 0.0)
        if self.relaunch > 0:
            again = np.flatnonzero(self.rest > self.relaunch)
            if again.size:
                self.y[again] = -self.r[again] - self.rng.uniform(0, 0.3 * h, again.size)
                self.x[again] = self.rng.uniform(self.r[again], w - self.r[again])
                self.vx[again] = self.rng.normal(0, 150, again.size) * self.unit
                self.vy[again] = 0.0
                self.rest[again] = 0.0

    def _walls(self, w: int, h: int, e: float, mu: float) -> None:
        r = self.r
        left, right, floor = self.x < r, self.x > w - r, self.y > h - r
        self.x = np.where(left, r, np.where(right, w - r, self.x)).astype(np.float32)
        self.vx = np.where(left, np.abs(self.vx) * e, np.where(right, -np.abs(self.vx) * e, self.vx)).astype(np.float32)
        self.y = np.where(floor, h - r, self.y).astype(np.float32)
        bounce = -np.abs(self.vy) * e
        # below a small speed a bounce becomes resting contact (no endless micro-bounces)
        bounce = np.where(np.abs(bounce) < 60 * self.unit, 0.0, bounce)
        self.vy = np.where(floor, bounce, self.vy).astype(np.float32)
        self.vx = np.where(floor, self.vx * (1 - mu * 0.5), self.vx).astype(np.float32)

    def _collide_pairs(self, e: float) -> None:
        n = self.count
        if n < 2:
            return
        i, j = np.triu_indices(n, 1)
        dx = self.x[j] - self.x[i]
        dy = self.y[j] - self.y[i]
        dist = np.sqrt(dx * dx + dy * dy)
        overlap = self.r[i] + self.r[j] - dist
        touch = overlap > 0
        if not touch.any():
            return
        i, j, dx, dy, dist, overlap = i[touch], j[touch], dx[touch], dy[touch], dist[touch], overlap[touch]
        nx = np.where(dist > 1e-3, dx / np.maximum(dist, 1e-3), 1.0)
        ny = np.where(dist > 1e-3, dy / np.maximum(dist, 1e-3), 0.0)
        mi, mj = self.r[i] ** 2, self.r[j] ** 2  # mass ~ area
        wi, wj = mj / (mi + mj), mi / (mi + mj)
        np.subtract.at(self.x, i, nx * overlap * wi)
        np.subtract.at(self.y, i, ny * overlap * wi)
        np.add.at(self.x, j, nx * overlap * wj)
        np.add.at(self.y, j, ny * overlap * wj)
        rel = (self.vx[j] - self.vx[i]) * nx + (self.vy[j] - self.vy[i]) * ny
        imp = np.where(rel < 0, -(1 + e) * rel, 0.0)
        np.subtract.at(self.vx, i, imp * nx * wi)
        np.subtract.at(self.vy, i, imp * ny * wi)
        np.add.at(self.vx, j, imp * nx * wj)
        np.add.at(self.vy, j, imp * ny * wj)

    def draw(self, img: np.ndarray) -> np.ndarray:
        """Paste each ball's sprite (premultiplied) into img, clipped to the frame. img is modified."""
        if self.sprites is None:
            return img
        h, w = img.shape[:2]
        for k in np.argsort(self.r):  # small (far) first
            rgb, alpha, pad = self.sprites[k]
            size = rgb.shape[0]
            x0 = int(round(self.x[k] - size / 2.0))
            y0 = int(round(self.y[k] - size / 2.0))
            x1, y1 = x0 + size, y0 + size
            cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            if cx0 >= cx1 or cy0 >= cy1:
                continue
            a = alpha[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0, None]
            s = rgb[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            roi = img[cy0:cy1, cx0:cx1]
            roi[:] = np.clip(roi * (1.0 - a) + s, 0, 255).astype(np.uint8)
        return img
