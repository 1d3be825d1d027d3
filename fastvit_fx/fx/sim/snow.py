"""Snow: thousands of flakes as numpy arrays, colliding with the silhouette through its signed
distance field, sliding off slopes, piling up on what faces up, and falling again when the
support goes away.

Piles are flakes too: settled flakes mark cells on the field grid, and falling flakes collide
with the union of the person and those cells, so piles grow flake by flake. Each step re-checks
every settled flake's support (the person just below it, or a settled cell under it); unsupported
flakes fall, which makes piles crumble from the bottom when the person steps away.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..fields import Fields, bilinear, signed_distance, unit_gradient


KNOCK_SPEED = 220.0  # px/s at 720p: a surface rising faster than this throws snow instead of holding it


class Snow:
    def __init__(self, count: int = 2500, fall_speed: float = 95.0, wind: float = 15.0, gust: float = 25.0,
                 sway: float = 18.0, size: float = 1.0, pile: bool = True, pile_depth: float = 30.0,
                 max_settled: float = 0.45, melt: float = 30.0, friction: float = 0.25,
                 stick_angle: float = 55.0, seed: int = 0) -> None:
        self.count = int(count)
        self.fall_speed = fall_speed
        self.wind, self.gust, self.sway = wind, gust, sway
        self.size = size
        self.pile = pile
        self.pile_depth = pile_depth
        self.max_settled = max_settled
        self.melt = melt
        self.friction = friction
        self.stick_cos = math.cos(math.radians(stick_angle))  # up-facing enough to hold snow
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.shape: tuple[int, int] | None = None  # set on the first step
        self.carry = (0.0, 0.0)

    # ---- state -------------------------------------------------------------------------------
    def _init(self, h: int, w: int) -> None:
        n, rng = self.count, self.rng
        self.shape = (h, w)
        self.unit = h / 720.0  # speeds and sizes are given for 720p and scale with the frame
        self.depth = rng.uniform(0.55, 1.45, n).astype(np.float32)  # parallax: near flakes are big and fast
        self.radius = ((0.8 + 1.6 * (self.depth - 0.55) / 0.9) * self.size * self.unit).astype(np.float32)
        self.radius = np.maximum(self.radius, 0.6)
        self.phase = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
        self.freq = rng.uniform(0.6, 1.8, n).astype(np.float32)
        self.x = rng.uniform(*self._x_range(w), n).astype(np.float32)
        self.y = rng.uniform(-0.05 * h, h, n).astype(np.float32)
        self.vx = np.zeros(n, np.float32)
        self.vy = (self.fall_speed * self.unit * self.depth).astype(np.float32)
        self.settled = np.zeros(n, bool)
        self.age = np.zeros(n, np.float32)  # seconds settled
        self.life = rng.uniform(0.6, 1.4, n).astype(np.float32) * self.melt

    def _x_range(self, w: int) -> tuple[float, float]:
        drift = abs(self.wind) * 8 * (self.shape[0] / 720.0 if self.shape else 1.0)
        return -drift - 20.0, w + drift + 20.0

    def _respawn(self, idx: np.ndarray) -> None:
        if idx.size == 0:
            return
        h, w = self.shape
        self.x[idx] = self.rng.uniform(*self._x_range(w), idx.size)
        self.y[idx] = -self.rng.uniform(2, 0.08 * h, idx.size) - self.radius[idx]
        self.vx[idx] = 0.0
        self.vy[idx] = self.fall_speed * self.unit * self.depth[idx]
        self.settled[idx] = False
        self.age[idx] = 0.0

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x.copy(), self.y.copy()

    # ---- physics -------------------------------------------------------------------------------
    def _grid_index(self, f: Fields, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gi = np.clip((x * (1.0 / f.sx)).astype(np.int32), 0, f.gw - 1)
        gj = np.clip((y * (1.0 / f.sy)).astype(np.int32), 0, f.gh - 1)
        return gi, gj

    def _occupancy(self, f: Fields) -> np.ndarray:
        occ = np.zeros((f.gh, f.gw), np.uint8)
        s = self.settled
        if s.any():
            gi, gj = self._grid_index(f, self.x[s], self.y[s])
            occ[gj, gi] = 1
        return occ

    def _push_out(self, f: Fields, idx: np.ndarray, sdf: np.ndarray, nx: np.ndarray, ny: np.ndarray,
                  margin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Move flakes idx out of the solid given by (sdf, normals) to `margin` outside it.
        Returns (hit mask over idx, d, nx, ny) sampled before the move."""
        u, v = f.to_grid(self.x[idx], self.y[idx])
        d = bilinear(sdf, u, v)
        hit = d < margin
        if hit.any():
            ex = bilinear(nx, u[hit], v[hit])
            ey = bilinear(ny, u[hit], v[hit])
            norm = np.sqrt(ex * ex + ey * ey)
            ok = norm > 1e-3
            ex = np.where(ok, ex / np.maximum(norm, 1e-3), 0.0)
            ey = np.where(ok, ey / np.maximum(norm, 1e-3), -1.0)  # no normal (deep inside): go up
            push = margin[hit] - d[hit]
            j = idx[hit]
            self.x[j] += push * ex
            self.y[j] += push * ey
            nxs = np.zeros_like(d)
            nys = np.zeros_like(d)
            nxs[hit], nys[hit] = ex, ey
            return hit, d, nxs, nys
        return hit, d, np.zeros_like(d), np.zeros_like(d)

    def _carry(self, f: Fields, s: np.ndarray) -> None:
        """Move settled flakes with the person: the silhouette's overall shift since the last frame
        (phase correlation of the grid masks, smoothed), then a lift along the normal for the ones
        the surface rose into, so bobbing and leaning carry the snow along."""
        prev = f.history.small
        shift = (0.0, 0.0)
        if prev is not None and prev.shape == f.small.shape:
            (dx, dy), response = cv2.phaseCorrelate(prev, f.small)
            if response > 0.3 and abs(dx) < 0.1 * f.gw and abs(dy) < 0.1 * f.gh:
                shift = (dx * f.sx, dy * f.sy)
        self.carry = (0.5 * self.carry[0] + 0.5 * shift[0], 0.5 * self.carry[1] + 0.5 * shift[1])
        self.x[s] += self.carry[0]
        self.y[s] += self.carry[1]
        u, v = f.to_grid(self.x[s], self.y[s])
        d = bilinear(f.sdf, u, v)
        r = self.radius[s]
        near = (d < r) & (d > r - 3.0 * f.scale)  # the surface rose into them: lift them with it
        if near.any():
            j = s[near]
            move = (r - d)[near]
            self.x[j] += move * bilinear(f.nx, u[near], v[near])
            self.y[j] += move * bilinear(f.ny, u[near], v[near])

    def step(self, f: Fields, dt: float, t: float) -> None:
        h, w = f.h, f.w
        if self.shape != (h, w):
            self._init(h, w)
        if dt <= 0:
            return
        dt = min(dt, 0.1)
        unit = self.unit
        person_sdf, pnx, pny = f.sdf, f.nx, f.ny

        # 1. settled flakes: ride along with the person, melt, or fall when their support is gone
        if self.pile and self.settled.any():
            self.age[self.settled] += dt
            melted = np.flatnonzero(self.settled & (self.age > self.life))
            self._respawn(melted)
            s = np.flatnonzero(self.settled)
            self._carry(f, s)
            occ = self._occupancy(f)
            r = self.radius[s]
            under = f.sample(person_sdf, self.x[s], self.y[s] + r + 1.5 * unit)
            # the distance field is accurate to about half a grid cell: tolerate that much air
            on_person = under <= 1.5 * unit + 0.6 * f.scale
            # the surface under them must still face up, or they slide
            u, v = f.to_grid(self.x[s], self.y[s] + r + 1.5 * unit)
            on_person &= bilinear(pny, u, v) < -self.stick_cos * 0.8
            gi, gj = self._grid_index(f, self.x[s], self.y[s])
            below = np.minimum(gj + 1, f.gh - 1)
            on_pile = (occ[below, gi] > 0) & (gj + 1 < f.gh)
            # angle of repose: a flake on a one-cell column tips over to a free side
            left, right = np.maximum(gi - 1, 0), np.minimum(gi + 1, f.gw - 1)
            propped = (occ[below, left] > 0) | (occ[below, right] > 0)
            on_pile &= propped | (self.rng.random(s.size) < 0.7)
            loose = s[~(on_person | on_pile)]
            self.settled[loose] = False
            self.vx[loose] = self.rng.normal(0, 12, loose.size) * unit
            self.vy[loose] = 0.0

        # 2. falling flakes: drift toward their wind/sway/fall velocity (air drag), then move
        fall = np.flatnonzero(~self.settled)
        gust = self.wind + self.gust * math.sin(t * 0.7) * math.sin(t * 0.23 + 1.0)
        dep = self.depth[fall]
        tvx = (gust + self.sway * np.sin(self.phase[fall] + t * self.freq[fall])) * dep * unit
        tvy = self.fall_speed * dep * unit
        k = 1.0 - math.exp(-dt / 0.35)
        self.vx[fall] += (tvx - self.vx[fall]) * k
        self.vy[fall] += (tvy - self.vy[fall]) * k
        self.x[fall] += self.vx[fall] * dt
        self.y[fall] += self.vy[fall] * dt

        # 3. collide with the person and the piles: push out along the normal, keep the tangential
        #    velocity (they slide), and stick where the surface faces up
        if self.pile and self.settled.any():
            occ = self._occupancy(f)
            solid = np.maximum(f.small, occ.astype(np.float32))
            solid_sdf = signed_distance(solid) * np.float32(f.scale)
            snx, sny, _ = unit_gradient(solid_sdf, f.scale)
        else:
            solid_sdf, snx, sny = person_sdf, pnx, pny
        r = self.radius[fall]
        hit, d, ex, ey = self._push_out(f, fall, solid_sdf, snx, sny, r)
        if hit.any():
            j = fall[hit]
            ex, ey = ex[hit], ey[hit]
            vn = self.vx[j] * ex + self.vy[j] * ey
            inward = np.minimum(vn, 0.0)
            self.vx[j] -= inward * ex
            self.vy[j] -= inward * ey
            # the person moving into a flake throws it
            speed = np.maximum(f.sample(f.surface_speed, self.x[j], self.y[j]), 0.0)
            self.vx[j] += speed * ex * 0.8
            self.vy[j] += speed * ey * 0.8
            self.vx[j] *= 1.0 - self.friction
            self.vy[j] *= 1.0 - self.friction
            # ... but air drag slows a thrown flake below the walking person's speed at once, so it
            # is hit again every frame and ploughed along their leading side as a white line. A
            # flake that a surface walks into lands on the clothes and is gone, as real snow is.
            up = ey < -self.stick_cos
            self._respawn(j[(speed > 40 * unit) & ~up])
            if self.pile:
                height = f.sample(person_sdf, self.x[j], self.y[j])
                room = int(self.max_settled * self.count) - int(self.settled.sum())
                # a walking person's shoulders bob up and down at up to ~100 px/s and a segmenter's
                # edge jitters by a few pixels a frame: only a real jump or swat throws snow off
                stick = up & (height < self.pile_depth * unit) & (speed < KNOCK_SPEED * unit)
                stick_idx = j[stick]
                if room > 0 and stick_idx.size:
                    stick_idx = stick_idx[:room]
                    self.settled[stick_idx] = True
                    self.vx[stick_idx] = 0.0
                    self.vy[stick_idx] = 0.0
                    self.age[stick_idx] = 0.0

        # 4. invariant: no flake ends up inside the person. Push again; give up and respawn if stuck.
        all_idx = np.arange(self.count)
        _, d0, _, _ = self._push_out(f, all_idx, person_sdf, pnx, pny, np.zeros(self.count, np.float32))
        inside = f.sample(person_sdf, self.x, self.y) < 0.0
        if inside.any():
            self._respawn(np.flatnonzero(inside))
        pushed = d0 < -0.75 * f.scale  # the person moved well into these: knocked loose
        self.settled[pushed] = False

        # 5. recycle flakes that left the frame
        xr = self._x_range(w)
        gone = (self.y > h + 8) | (self.x < xr[0] - 40) | (self.x > xr[1] + 40)
        self._respawn(np.flatnonzero(gone & ~self.settled))

    # ---- drawing -------------------------------------------------------------------------------
    def draw(self, img: np.ndarray, opacity: float = 1.0) -> np.ndarray:
        """Add the flakes to img: soft dots splatted on a half-res layer, blurred, upsampled."""
        if self.shape is None:
            return img
        h, w = img.shape[:2]
        hw, hh = max(2, w // 2), max(2, h // 2)
        layer = np.zeros((hh, hw), np.float32)
        x = self.x * (hw / w)
        y = self.y * (hh / h)
        ok = (x >= 0) & (x < hw - 1) & (y >= 0) & (y < hh - 1)
        xi, yi = x[ok].astype(np.int32), y[ok].astype(np.int32)
        bright = (0.5 + 0.5 * (self.depth[ok] - 0.55) / 0.9) * (255 * 1.6 * opacity)
        layer[yi, xi] = bright  # overlapping flakes: one wins, invisible at this size
        big = self.radius[ok] > 1.6 * self.unit  # near flakes: a 2x2 block before the blur
        if big.any():
            xb, yb, vb = xi[big], yi[big], bright[big] * 0.8
            layer[yb + 1, xb] = vb
            layer[yb, xb + 1] = vb
            layer[yb + 1, xb + 1] = vb
        layer = cv2.GaussianBlur(layer, (3, 3), 0.7)
        flakes = cv2.convertScaleAbs(cv2.resize(layer, (w, h), interpolation=cv2.INTER_LINEAR))
        return cv2.add(img, cv2.merge([flakes, flakes, flakes]))

    def pile_light(self, f: Fields) -> np.ndarray | None:
        """The piles as a grid light layer (float32 HxWx3): a smooth white crust, brightest on top.
        Added, not mixed: white added to anything darker saturates to snow, and it is one upsample."""
        if not (self.pile and self.settled.any()):
            return None
        occ = self._occupancy(f).astype(np.float32)
        soft = cv2.GaussianBlur(occ, (7, 7), 1.2)  # cells melt into rounded mounds
        alpha = np.clip((soft - 0.1) * 3.5, 0.0, 1.0)
        top = np.clip(alpha - np.roll(alpha, 2, axis=0), 0.0, 1.0)  # lit from above
        lum = alpha * 0.85 + top * 0.2
        return cv2.merge([lum, lum * 0.98, lum * 0.94])
