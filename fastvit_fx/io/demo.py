"""The built-in demo scene: a real person cut-out walking, swaying and swinging their arms in a room.

No camera needed, so a new user sees the effects (and the real segmenter at work) in seconds.
`DemoScene(1280, 720).frame(t)` is a pure function of time: the same t always gives the same frame,
and `mask(t)` gives the exact person mask the frame was composed with (for tests and benchmarks).
`DemoScene(motion="fast")` walks about five times faster with the arms swinging wide: the hard case
for a live mask (how far the person gets while a frame is being segmented).

The pictures live in fastvit_fx/io/demo_assets/ (sources and licences in its README.md). If they are
missing (a trimmed install) the scene falls back to a drawn figure, so `--source demo` always works.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ASSETS = Path(__file__).resolve().parent / "demo_assets"


def load_assets() -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(person BGR, person alpha float32 0..1, room BGR, from_files)."""
    person = cv2.imread(str(ASSETS / "person.jpg"), cv2.IMREAD_COLOR)
    alpha = cv2.imread(str(ASSETS / "person_mask.png"), cv2.IMREAD_GRAYSCALE)
    room = cv2.imread(str(ASSETS / "room.jpg"), cv2.IMREAD_COLOR)
    if person is not None and alpha is not None and room is not None and person.shape[:2] == alpha.shape:
        return person, alpha.astype(np.float32) / 255.0, room, True
    return (*_drawn_person(), _drawn_room(), False)


def _drawn_person() -> tuple[np.ndarray, np.ndarray]:
    """A simple figure (head, torso, arms, legs) for when the bundled photo is missing."""
    h, w = 500, 170
    alpha = np.zeros((h, w), np.uint8)
    cv2.ellipse(alpha, (85, 45), (30, 38), 0, 0, 360, 255, -1)
    cv2.rectangle(alpha, (75, 75), (95, 100), 255, -1)
    cv2.ellipse(alpha, (85, 170), (52, 80), 0, 0, 360, 255, -1)
    for x in (30, 140):
        cv2.line(alpha, (85 + (x - 85) // 2, 115), (x, 270), 255, 22)
    for x in (62, 108):
        cv2.line(alpha, (x, 230), (x, 470), 255, 30)
    person = np.zeros((h, w, 3), np.uint8)
    person[:] = (60, 110, 70)
    person[:100] = (120, 150, 200)
    person[240:] = (70, 60, 50)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    return person, alpha.astype(np.float32) / 255.0


def _drawn_room() -> np.ndarray:
    h, w = 288, 512
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    wall = np.array([200, 215, 225], np.float32)
    floor = np.array([70, 110, 150], np.float32)
    room = np.where(y < 0.62, wall * (0.85 + 0.15 * y), floor * (0.8 + 0.3 * y))
    room = np.broadcast_to(room, (h, w, 3)).copy()
    cv2.rectangle(room, (330, 60), (430, 150), (235, 225, 190), -1)  # a window
    cv2.rectangle(room, (40, 150), (200, 205), (40, 180, 220), -1)  # a sofa
    return room.astype(np.uint8)


@dataclass(frozen=True)
class Motion:
    """How the demo person moves."""

    walk_period: float  # seconds for one walk left-right-left
    reach: float  # how far either side of the centre, as a fraction of the frame width
    steps_per_s: float  # bob and arm swing with each step
    arm_swing: float  # how wide the hands swing (1: a gentle walk)
    depth_period: float = 19.0  # seconds to come closer and go back


MOTIONS = {
    # slow enough (about 90 px/s at 1280 wide) that a mask a few frames old still fits on a slow machine
    "calm": Motion(walk_period=16.0, reach=0.18, steps_per_s=1.6, arm_swing=1.0),
    # about 480 px/s at 1280 wide (16 px a frame at 30 fps), arms swinging wide
    "fast": Motion(walk_period=5.0, reach=0.30, steps_per_s=2.4, arm_swing=2.6, depth_period=7.0),
}


class DemoScene:
    """Composes frame(t): the room, a soft shadow, and the person animated by simple warps."""

    def __init__(self, width: int = 1280, height: int = 720, motion: str = "calm") -> None:
        if width < 32 or height < 32:
            raise ValueError(f"demo frames must be at least 32x32, got {width}x{height}")
        if motion not in MOTIONS:
            raise ValueError(f"demo motion {motion!r}: choose one of {', '.join(MOTIONS)}")
        self.width, self.height = int(width), int(height)
        self.motion = MOTIONS[motion]
        person, alpha, room, self.from_files = load_assets()
        alpha = cv2.GaussianBlur(alpha, (0, 0), 0.8)  # a hand-drawn mask's hard edge looks like a sticker
        # the room, filling the frame (cropped to its aspect), a little soft like a real lens's background
        # a little closer and lower than the photo, so the ceiling lamp stays above the person's head
        self.background = _cover(room, self.width, self.height, zoom=1.2, anchor_y=1.0) if self.from_files \
            else _cover(room, self.width, self.height)
        sigma = max(self.width / 1280.0, 0.5)
        self.background = cv2.GaussianBlur(self.background, (0, 0), sigma)
        # the person, scaled once so that at depth 0.5 they stand about 3/4 of the frame tall
        self._base_scale = 0.74 * self.height / person.shape[0]
        pad = 24  # room for the arm warp to move pixels outwards
        self.person = cv2.copyMakeBorder(person, pad, pad, pad, pad, cv2.BORDER_REPLICATE).astype(np.float32)
        self.alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        self._prepare_arm_warp(alpha, pad)
        ph, pw = self.alpha.shape
        self._feet = np.array([pw / 2.0, ph - pad - 2.0])  # pivot: between the feet
        # a little sensor noise, as from a webcam: a few fixed noise fields, cycled (cheap per frame)
        rng = np.random.default_rng(7)
        self._noise = []
        for _ in range(3):
            n = np.repeat(rng.normal(0.0, 2.5, (self.height, self.width, 1)).astype(np.float32), 3, axis=2)
            self._noise.append((np.clip(np.round(n), 0, 255).astype(np.uint8),
                                np.clip(np.round(-n), 0, 255).astype(np.uint8)))
        shadow = np.zeros((64, 256), np.float32)
        cv2.ellipse(shadow, (128, 32), (100, 14), 0, 0, 360, 1.0, -1)
        self._shadow = cv2.GaussianBlur(shadow, (0, 0), 9)

    def _prepare_arm_warp(self, alpha: np.ndarray, pad: int) -> None:
        """Where the arms are: the outer bands of the body between shoulders and hands."""
        ph, pw = self.alpha.shape
        cols = np.nonzero(alpha.max(axis=0) > 0.5)[0]
        rows = np.nonzero(alpha.max(axis=1) > 0.5)[0]
        left, right = (cols[0], cols[-1]) if len(cols) else (0, alpha.shape[1] - 1)
        top, bottom = (rows[0], rows[-1]) if len(rows) else (0, alpha.shape[0] - 1)
        body_h = bottom - top + 1
        cx = (left + right) / 2 + pad
        half = max((right - left) / 2, 1.0)
        ys, xs = np.mgrid[0:ph, 0:pw].astype(np.float32)
        self._grid = (xs, ys)
        shoulder = top + pad + 0.19 * body_h
        hand = top + pad + 0.56 * body_h
        down = np.clip((ys - shoulder) / (hand - shoulder), 0, 1)  # 0 at the shoulder, 1 at the hand
        down = np.where(ys > hand + 0.06 * body_h, 0, down)  # legs stay put
        side = np.clip((np.abs(xs - cx) / half - 0.45) / 0.3, 0, 1)  # only the outer bands move
        self._arm_weight = (down * side).astype(np.float32)
        self._arm_sign = np.where(xs < cx, -1.0, 1.0).astype(np.float32)
        self._arm_reach = float(0.07 * body_h)  # how far a hand swings, in cut-out pixels

    # -- animation -------------------------------------------------------------------------------
    def pose(self, t: float) -> dict[str, float]:
        """Where the person is at time t: centre x, feet y, scale, lean (degrees), arm swing."""
        w, h, motion = self.width, self.height, self.motion
        walk_period, depth_period, reach = motion.walk_period, motion.depth_period, motion.reach * w
        x = w / 2 + reach * math.sin(2 * math.pi * t / walk_period)
        top_speed = reach * 2 * math.pi / walk_period
        speed = top_speed * math.cos(2 * math.pi * t / walk_period)  # px/s
        moving = min(abs(speed) / top_speed, 1.0)
        steps = motion.steps_per_s * t * 2 * math.pi
        depth = 0.5 + 0.5 * math.sin(2 * math.pi * t / depth_period)
        scale = self._base_scale * (0.88 + 0.24 * depth) * (1 + 0.008 * math.sin(2 * math.pi * t / 4.0))
        feet_y = h * (0.90 + 0.07 * depth) - 9 * moving * abs(math.sin(steps))
        lean = 2.2 * math.sin(2 * math.pi * t / 3.7) + 2.5 * speed / top_speed
        arms = motion.arm_swing * ((0.35 + 0.65 * moving) * math.sin(steps) + 0.25 * math.sin(2 * math.pi * t / 2.3))
        return {"x": x, "feet_y": feet_y, "scale": scale, "lean": lean, "arms": arms}

    def _warped_person(self, arms: float) -> tuple[np.ndarray, np.ndarray]:
        if abs(arms) < 1e-3:
            return self.person, self.alpha
        xs, ys = self._grid
        # opposite arms swing opposite ways: the left band moves by -sign*arms, the right by +
        dx = self._arm_weight * self._arm_sign * arms * self._arm_reach * 0.35
        dy = -self._arm_weight * np.abs(arms) * self._arm_reach * 0.12
        mapx, mapy = (xs - dx).astype(np.float32), (ys - dy).astype(np.float32)
        person = cv2.remap(self.person, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(self.alpha, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return person, alpha

    def _placement(self, pose: dict[str, float]) -> np.ndarray:
        """2x3 affine from cut-out pixels to frame pixels: scale and lean about the feet."""
        s, a = pose["scale"], math.radians(pose["lean"])
        c, n = s * math.cos(a), s * math.sin(a)
        fx, fy = self._feet
        m = np.array([[c, -n, 0.0], [n, c, 0.0]])
        m[:, 2] = np.array([pose["x"], pose["feet_y"]]) - m[:, :2] @ np.array([fx, fy])
        return m

    def _roi(self, m: np.ndarray) -> tuple[int, int, int, int] | None:
        ph, pw = self.alpha.shape
        corners = np.array([[0, 0, 1], [pw, 0, 1], [0, ph, 1], [pw, ph, 1]], np.float64) @ m.T
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, self.width), min(y1, self.height)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def render(self, t: float, with_mask: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """The frame at time t (uint8 BGR) and, if asked, its exact person mask (float32 0..1)."""
        pose = self.pose(t)
        frame = self.background.copy()
        self._draw_shadow(frame, pose)
        person, alpha = self._warped_person(pose["arms"])
        m = self._placement(pose)
        mask = np.zeros((self.height, self.width), np.float32) if with_mask else None
        roi = self._roi(m)
        if roi is not None:
            x0, y0, x1, y1 = roi
            local = m.copy()
            local[:, 2] -= (x0, y0)
            size = (x1 - x0, y1 - y0)
            fg = cv2.warpAffine(person, local, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            a = cv2.warpAffine(alpha, local, size, flags=cv2.INTER_LINEAR, borderValue=0)
            region = frame[y0:y1, x0:x1].astype(np.float32)
            a3 = a[..., None]
            frame[y0:y1, x0:x1] = np.clip(region + (fg - region) * a3, 0, 255).astype(np.uint8)
            if mask is not None:
                mask[y0:y1, x0:x1] = a
        up, down = self._noise[int(t * 30) % len(self._noise)]
        cv2.add(frame, up, dst=frame)
        cv2.subtract(frame, down, dst=frame)
        return frame, mask

    def _draw_shadow(self, frame: np.ndarray, pose: dict[str, float]) -> None:
        sw = int(0.28 * self.height * pose["scale"] / self._base_scale)
        sh = max(sw // 4, 2)
        x0, y0 = int(pose["x"] - sw / 2), int(pose["feet_y"] - sh / 2)
        shadow = cv2.resize(self._shadow, (sw, sh))
        fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + sw, self.width), min(y0 + sh, self.height)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        s = shadow[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0, None]
        region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        frame[fy0:fy1, fx0:fx1] = (region * (1 - 0.45 * s)).astype(np.uint8)

    def frame(self, t: float) -> np.ndarray:
        return self.render(t)[0]

    def mask(self, t: float) -> np.ndarray:
        return self.render(t, with_mask=True)[1]


def _cover(image: np.ndarray, width: int, height: int, zoom: float = 1.0, anchor_y: float = 0.5) -> np.ndarray:
    """Scale and crop `image` to exactly width x height (like CSS background-size: cover), `zoom` times
    closer; anchor_y picks which part of the height is kept (0 top, 0.5 centre, 1 bottom)."""
    h, w = image.shape[:2]
    s = max(width / w, height / h) * max(zoom, 1.0)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    big = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
    x0, y0 = (nw - width) // 2, int(round((nh - height) * min(max(anchor_y, 0.0), 1.0)))
    return np.ascontiguousarray(big[y0:y0 + height, x0:x0 + width])
