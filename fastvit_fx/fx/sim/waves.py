"""Ripples: a height field under the 2D wave equation on the field grid, stirred by the person's
motion and by occasional drops. Rendering refracts the frame through the surface's slope and
lights it with a specular highlight."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..fields import Fields


class Waves:
    def __init__(self, speed: float = 0.45, damping: float = 0.988, motion: float = 1.0,
                 drops: float = 1.5, drop_size: float = 14.0, drop_strength: float = 0.6, seed: int = 2) -> None:
        self.c2 = min(speed, 0.5)  # Courant limit of the 5-point scheme: c^2 dt^2/dx^2 <= 1/2
        self.damping = damping
        self.motion = motion
        self.drops = drops
        self.drop_size = drop_size
        self.drop_strength = drop_strength
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.h: np.ndarray | None = None
        self.prev: np.ndarray | None = None
        self._acc = 0.0

    def _drop(self, f: Fields, gx: float, gy: float, size: float, amount: float) -> None:
        """Add a Gaussian bump to the height field at grid coordinates (a raindrop, a pebble)."""
        r = int(max(2, math.ceil(size * 2.5)))
        x0, x1 = max(0, int(gx) - r), min(f.gw, int(gx) + r + 1)
        y0, y1 = max(0, int(gy) - r), min(f.gh, int(gy) + r + 1)
        if x0 >= x1 or y0 >= y1:
            return
        yy, xx = np.ogrid[y0:y1, x0:x1]
        bump = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * size * size)).astype(np.float32)
        self.h[y0:y1, x0:x1] -= amount * bump

    def step(self, f: Fields, dt: float, t: float) -> None:
        if self.h is None or self.h.shape != (f.gh, f.gw):
            self.h = np.zeros((f.gh, f.gw), np.float32)
            self.prev = np.zeros_like(self.h)
        if dt <= 0:
            return
        dt = min(dt, 0.1)
        # the person pushes water where they arrive and pulls it where they leave
        if self.motion > 0:  # smoothed, so the wake is a wave and not grid-sized noise
            self.h += cv2.GaussianBlur(f.mask_delta, (7, 7), 1.5) * np.float32(self.motion * 0.6)
        if self.drops > 0:
            n = self.rng.poisson(self.drops * dt)
            for _ in range(int(n)):
                gx, gy = self.rng.uniform(0, f.gw), self.rng.uniform(0, f.gh)
                if f.small[min(int(gy), f.gh - 1), min(int(gx), f.gw - 1)] < 0.5:  # not on the person
                    size = self.drop_size / f.scale * self.rng.uniform(0.6, 1.4)
                    self._drop(f, gx, gy, size, self.drop_strength * self.rng.uniform(0.5, 1.0))
        # fixed sub-steps per second keep the wave speed independent of the frame rate
        self._acc += dt * 60.0
        steps = int(self._acc)
        self._acc -= steps
        h, prev = self.h, self.prev
        for _ in range(min(steps, 6)):
            lap = cv2.Laplacian(h, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
            new = (2.0 * h - prev + self.c2 * lap) * np.float32(self.damping)
            prev, h = h, new
        self.h, self.prev = h, prev

    def slope(self) -> tuple[np.ndarray, np.ndarray]:
        gx = cv2.Sobel(self.h, cv2.CV_32F, 1, 0, ksize=3) * 0.125
        gy = cv2.Sobel(self.h, cv2.CV_32F, 0, 1, ksize=3) * 0.125
        return gx, gy
