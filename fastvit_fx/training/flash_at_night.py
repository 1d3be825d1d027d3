"""A person lit from the camera in a dark room: a phone's flash, or a screen in front of a webcam user.

`augment.night` darkens the whole frame under a lamp's cast; in a dark room lit from the camera the
person is the bright thing: skin near clipping, dark clothes still dark, the room dim behind with its
lamps, candles and fairy lights as bright points. The one portrait that soups with the photos' branch
traded away is that picture (a flash selfie under a chandelier, its black top missed), and it is the
blind set's "people at night" (model card: What would help next 19). Pure function of (frame, label,
rng).
"""
from __future__ import annotations

import cv2
import numpy as np

# BGR casts of the light on the person and of the room's own light
PERSON_LIGHTS = ((1.0, 1.0, 1.0), (1.0, 0.95, 0.9), (1.0, 0.9, 0.8), (0.85, 0.9, 1.0))  # flash, screens, a lamp
ROOM_LIGHTS = ((0.5, 0.75, 1.0), (0.6, 0.8, 1.0), (0.8, 0.85, 1.0), (1.0, 0.8, 0.7))  # tungsten, candles, a bulb, night
POINT_COLOURS = ((150, 220, 255), (120, 200, 255), (255, 255, 255), (200, 200, 255), (255, 200, 150))


def _points_of_light(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Lamps, candles or a string of fairy lights: a float32 (h, w, 3) layer of bright points with
    their bloom, in [0, 1]."""
    layer = np.zeros((h, w, 3), np.float32)
    for _ in range(int(rng.integers(1, 4))):  # clusters: a chandelier, a string of lights, a lamp
        cx, cy = rng.uniform(0, w), rng.uniform(0, h * 0.8)
        spread_x, spread_y = rng.uniform(0.03, 0.25) * w, rng.uniform(0.02, 0.12) * h
        colour = np.array(POINT_COLOURS[int(rng.integers(len(POINT_COLOURS)))], np.float32) / 255.0
        radius = max(1, int(round(rng.uniform(0.004, 0.015) * max(h, w))))
        for _ in range(int(rng.integers(3, 25))):
            x = int(np.clip(cx + rng.normal(0, spread_x), 0, w - 1))
            y = int(np.clip(cy + rng.normal(0, spread_y), 0, h - 1))
            cv2.circle(layer, (x, y), radius, tuple(float(c) for c in colour), -1)
    glow = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.01, 0.03) * max(h, w))
    return np.clip(layer + glow * rng.uniform(1.0, 3.0), 0.0, 1.0)


def flash_at_night(frame: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The frame (uint8 BGR) relit: the labelled people lit from the camera, the rest a dim room with
    points of light behind them. The label (0-255, 128 not labelled) only places the light; it is not
    changed."""
    h, w = frame.shape[:2]
    img = frame.astype(np.float32) / 255.0
    label_f = label.astype(np.float32) / 255.0
    # a depth edge: the light ends at the outline (a pixel or two of softening), and the wall close
    # behind the person catches a broad, shapeless share of it
    person = cv2.GaussianBlur(label_f, (0, 0), rng.uniform(0.002, 0.006) * max(h, w))[..., None]
    small = cv2.resize(label_f, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    near = cv2.resize(cv2.GaussianBlur(small, (0, 0), 0.25 * max(small.shape)), (w, h))
    near = (near / max(float(near.max()), 1e-6))[..., None]
    room_light = np.array(ROOM_LIGHTS[int(rng.integers(len(ROOM_LIGHTS)))], np.float32)
    room = img ** rng.uniform(1.2, 2.2) * rng.uniform(0.15, 0.45) * room_light
    room = room * (1.0 + rng.uniform(0.0, 0.5) * near)
    on_person = np.array(PERSON_LIGHTS[int(rng.integers(len(PERSON_LIGHTS)))], np.float32)
    lit = img * rng.uniform(1.1, 2.0) * on_person + rng.uniform(0.0, 0.05)  # skin near clipping, dark clothes dark
    out = lit * person + room * (1.0 - person)
    # lights stand behind the people, not on them (background: under the not-labelled band, 128 +- 40)
    behind = (label < 88).astype(np.float32)[..., None]
    points = _points_of_light(h, w, rng)
    out = out + points * behind
    out = out + rng.normal(0.0, rng.uniform(0.01, 0.03), out.shape).astype(np.float32)  # the gain's noise
    return np.clip(out * 255.0, 0, 255).astype(np.uint8)
