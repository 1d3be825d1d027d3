"""A generated test clip: a person-shaped silhouette (head, neck, shoulders, torso, arms that wave
and a body that sways and steps aside) over a textured room. For benchmarks, tests and the
preset pictures, and as a demo source before any camera or trained weights exist.

    clip = SyntheticClip(1280, 720)
    frame, mask = clip(t)          # BGR uint8, float32 mask in [0, 1]
"""
from __future__ import annotations

import math

import cv2
import numpy as np

SKIN = (120, 150, 205)
SHIRT = (120, 84, 38)
HAIR = (28, 36, 52)


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def room_background(w: int, h: int, seed: int = 3) -> np.ndarray:
    """A plausible room: warm wall, a window, a bookshelf, a plant, a picture, a wooden floor."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    top, bottom = np.array([178, 196, 212], np.float32), np.array([132, 150, 166], np.float32)
    img = (top * (1 - y) + bottom * y) * np.ones((1, w, 1), np.float32)
    img += rng.normal(0, 3.0, (h, w, 1)).astype(np.float32)  # plaster texture
    img = np.clip(img, 0, 255).astype(np.uint8)

    def P(fx, fy):
        return int(fx * w), int(fy * h)

    # floor
    cv2.rectangle(img, P(0, 0.86), P(1, 1), (52, 78, 110), -1)
    for i in range(12):
        x = int((i + 0.5) / 12 * w)
        cv2.line(img, (x, int(0.86 * h)), (int(x + (x - w / 2) * 0.4), h), (40, 62, 92), max(1, w // 640))
    cv2.line(img, P(0, 0.86), P(1, 0.86), (70, 96, 124), max(2, h // 240))
    # window with sky and bars
    x0, y0 = P(0.05, 0.1)
    x1, y1 = P(0.3, 0.6)
    sky = np.linspace(0, 1, max(1, y1 - y0), dtype=np.float32)[:, None, None]
    img[y0:y1, x0:x1] = (np.array([250, 215, 160]) * (1 - sky) + np.array([235, 225, 205]) * sky).astype(np.uint8)
    cv2.ellipse(img, P(0.2, 0.55), (int(0.09 * w), int(0.07 * h)), 0, 180, 360, (110, 150, 100), -1)  # a tree
    t = max(3, w // 160)
    cv2.rectangle(img, (x0, y0), (x1, y1), (235, 240, 245), t)
    cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), (235, 240, 245), t)
    cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), (235, 240, 245), t)
    # picture frame
    cv2.rectangle(img, P(0.4, 0.12), P(0.55, 0.32), (40, 50, 60), -1)
    cv2.rectangle(img, P(0.41, 0.135), P(0.54, 0.305), (150, 120, 200), -1)
    cv2.circle(img, P(0.475, 0.22), int(0.045 * h), (60, 180, 240), -1)
    # bookshelf
    sx0, sy0 = P(0.72, 0.08)
    sx1, sy1 = P(0.96, 0.86)
    cv2.rectangle(img, (sx0, sy0), (sx1, sy1), (34, 58, 92), -1)
    shelves = 4
    for s in range(shelves):
        by0 = sy0 + int((sy1 - sy0) * (s / shelves)) + t
        by1 = sy0 + int((sy1 - sy0) * ((s + 1) / shelves)) - t
        x = sx0 + t
        while x < sx1 - t - 4:
            bw = int(rng.integers(max(3, w // 160), max(5, w // 55)))
            bh = int((by1 - by0) * rng.uniform(0.6, 0.95))
            color = tuple(int(c) for c in rng.integers(40, 220, 3))
            cv2.rectangle(img, (x, by1 - bh), (min(x + bw, sx1 - t), by1), color, -1)
            x += bw + 1
        cv2.rectangle(img, (sx0, by1), (sx1, by1 + t), (26, 44, 70), -1)
    # plant
    cv2.rectangle(img, P(0.06, 0.74), P(0.13, 0.87), (60, 90, 170), -1)
    for i in range(9):
        a = math.pi * (0.15 + 0.7 * i / 8)
        cx, cy = P(0.095, 0.74)
        end = (int(cx - math.cos(a) * 0.09 * w), int(cy - math.sin(a) * 0.2 * h))
        cv2.ellipse(img, ((cx + end[0]) // 2, (cy + end[1]) // 2), (int(0.012 * w), int(0.06 * h)),
                    math.degrees(a) + 90, 0, 360, (60, 140 + 8 * i, 50), -1, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (3, 3), 0.6)


class SyntheticClip:
    """frame, mask = clip(t). The body sways and steps aside (8 s cycle), one arm waves, the other swings."""

    def __init__(self, width: int = 1280, height: int = 720, seed: int = 0, noise: float = 2.0) -> None:
        self.w, self.h = width, height
        self.background = room_background(width, height)
        self.rng = np.random.default_rng(seed)
        self.noise = noise

    def pose(self, t: float) -> dict:
        w, h = self.w, self.h
        step = _smooth((math.sin(2 * math.pi * t / 8.0 - math.pi / 2) + 1) / 2)  # 0 -> 1 -> 0 over 8 s
        cx = w * 0.46 + w * 0.03 * math.sin(2 * math.pi * t / 5.3) + step * w * 0.2
        wave = _smooth((math.sin(2 * math.pi * t / 6.0) + 0.2) / 1.2)  # the right arm goes up and down
        return {
            "cx": cx,
            "lean": 4.0 * math.sin(2 * math.pi * t / 4.1),
            "head_tilt": 7.0 * math.sin(2 * math.pi * t / 3.3),
            # arm angles in degrees from straight down, positive = away from the body
            "r_upper": 8 + 95 * wave,
            "r_fore": 4 + 70 * wave + 22 * wave * math.sin(2 * math.pi * t * 1.6),
            "l_upper": 8 + 10 * math.sin(2 * math.pi * t / 2.7),
            "l_fore": 4 + 12 * (0.5 + 0.5 * math.sin(2 * math.pi * t / 2.7 + 1)),
            "bob": h * 0.006 * math.sin(2 * math.pi * t / 1.9),
        }

    def _parts(self, pose: dict) -> list[tuple[str, object]]:
        """The body as drawing primitives: ('poly', pts), ('circle', c, r), ('ellipse', ...), ('limb', a, b, r)."""
        h = self.h
        u = h / 720.0
        cx, bob = pose["cx"], pose["bob"]
        lean = math.radians(pose["lean"])
        neck_base = (cx + 150 * u * math.sin(lean), 0.56 * h + bob)
        head_c = (neck_base[0] + 110 * u * math.sin(lean + math.radians(pose["head_tilt"]) * 0.5),
                  neck_base[1] - 170 * u)
        parts: list = []
        # torso outline: trapezius slope from the neck, a round shoulder, the side down out of frame
        side = []
        for sign in (-1, 1):
            pts = []
            for k in np.linspace(0, 1, 8):  # neck -> shoulder tip (quadratic Bezier)
                p0, p1, p2 = (52 * u, -10 * u), (120 * u, 10 * u), (185 * u, 48 * u)
                x = (1 - k) ** 2 * p0[0] + 2 * (1 - k) * k * p1[0] + k * k * p2[0]
                y = (1 - k) ** 2 * p0[1] + 2 * (1 - k) * k * p1[1] + k * k * p2[1]
                pts.append((x, y))
            for a in np.linspace(-50, 10, 6):  # round over the shoulder
                r = 62 * u
                pts.append((160 * u + r * math.cos(math.radians(a)), 95 * u + r * math.sin(math.radians(a))))
            pts.append((215 * u, h - neck_base[1] + 60 * u))
            side.append([(neck_base[0] + sign * (x * math.cos(lean)) - y * math.sin(lean) * 0,
                          neck_base[1] + y + sign * x * math.sin(lean)) for x, y in pts])
        torso = np.array(side[0] + side[1][::-1], np.float32)
        parts.append(("shirt", ("poly", torso)))
        # arms: upper arm then forearm, each a thick capsule from inside the shoulder
        for name, sign in (("r", -1), ("l", 1)):
            s = (neck_base[0] + sign * 178 * u, neck_base[1] + 95 * u + sign * 178 * u * math.sin(lean))
            a1 = math.radians(pose[f"{name}_upper"])
            elbow = (s[0] + sign * math.sin(a1) * 175 * u, s[1] + math.cos(a1) * 175 * u)
            a2 = a1 + math.radians(pose[f"{name}_fore"])
            hand = (elbow[0] + sign * math.sin(a2) * 150 * u, elbow[1] + math.cos(a2) * 150 * u)
            parts.append(("shirt", ("limb", s, elbow, 46 * u)))
            parts.append(("shirt", ("limb", elbow, hand, 38 * u)))
            parts.append(("skin", ("circle", hand, 34 * u)))
        parts.append(("skin", ("limb", (neck_base[0], neck_base[1] + 10 * u), (neck_base[0], neck_base[1] - 80 * u), 44 * u)))
        tilt = pose["head_tilt"] + pose["lean"]
        parts.append(("skin", ("ellipse", head_c, (80 * u, 102 * u), tilt)))
        parts.append(("hair", ("ellipse", (head_c[0], head_c[1] - 20 * u), (86 * u, 88 * u), tilt, 180, 360)))
        parts.append(("face", (head_c, tilt, u)))
        return parts

    @staticmethod
    def _draw(img: np.ndarray, shape, color) -> None:
        S = 4  # fixed-point subpixel bits for smooth motion
        f = float(1 << S)

        def pt(p):
            return int(round(p[0] * f)), int(round(p[1] * f))

        kind = shape[0]
        if kind == "poly":
            cv2.fillPoly(img, [np.round(shape[1] * f).astype(np.int32)], color, cv2.LINE_AA, S)
        elif kind == "circle":
            cv2.circle(img, pt(shape[1]), int(shape[2] * f), color, -1, cv2.LINE_AA, S)
        elif kind == "limb":
            a, b, r = shape[1], shape[2], shape[3]
            cv2.line(img, pt(a), pt(b), color, max(1, int(2 * r)), cv2.LINE_AA, S)
            cv2.circle(img, pt(a), int(r * f), color, -1, cv2.LINE_AA, S)
            cv2.circle(img, pt(b), int(r * f), color, -1, cv2.LINE_AA, S)
        elif kind == "ellipse":
            c, axes, angle = shape[1], shape[2], shape[3]
            a0, a1 = (shape[4], shape[5]) if len(shape) > 4 else (0, 360)
            cv2.ellipse(img, pt(c), (int(axes[0] * f), int(axes[1] * f)), angle, a0, a1, color, -1, cv2.LINE_AA, S)

    def __call__(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        w, h = self.w, self.h
        parts = self._parts(self.pose(t))
        mask8 = np.zeros((h, w), np.uint8)
        person = np.zeros((h, w, 3), np.uint8)
        colors = {"shirt": SHIRT, "skin": SKIN, "hair": HAIR}
        for kind, shape in parts:
            if kind == "face":
                c, tilt, u = shape
                for dx in (-28, 28):  # eyes
                    cv2.ellipse(person, (int(c[0] + dx * u), int(c[1] - 5 * u)), (max(1, int(9 * u)), max(1, int(6 * u))),
                                tilt, 0, 360, (40, 35, 30), -1, cv2.LINE_AA)
                cv2.ellipse(person, (int(c[0]), int(c[1] + 45 * u)), (max(1, int(20 * u)), max(1, int(7 * u))),
                            tilt, 0, 180, (70, 80, 150), -1, cv2.LINE_AA)
                continue
            self._draw(mask8, shape, 255)
            self._draw(person, shape, colors[kind])
        mask = cv2.GaussianBlur(mask8, (0, 0), 1.2 * h / 720 + 0.3).astype(np.float32) * (1 / 255)
        # soft window light from the left, darker toward the silhouette's edge (roundness)
        x = np.linspace(1.15, 0.75, w, dtype=np.float32)[None, :]
        depth = cv2.GaussianBlur(mask, (0, 0), 18 * h / 720)
        light = (x * (0.55 + 0.45 * depth))[..., None]
        person = np.clip(person.astype(np.float32) * light, 0, 255)
        frame = self.background.astype(np.float32) * (1 - mask[..., None]) + person * mask[..., None]
        if self.noise > 0:
            frame += self.rng.normal(0, self.noise, (h, w, 1)).astype(np.float32)
        return np.clip(frame, 0, 255).astype(np.uint8), mask


def synthetic_clip(n: int, width: int = 1280, height: int = 720, fps: float = 30.0, start: float = 0.0):
    """n frames of the generated clip: yields (frame, mask)."""
    clip = SyntheticClip(width, height)
    for i in range(n):
        yield clip(start + i / fps)
