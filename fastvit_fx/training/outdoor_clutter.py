"""Outdoor hard negatives: a bush, a flowering shrub, a tree trunk, a litter bin.

The scene branches painted the foot of a tree on a riverside pavement, flowers and red cloth above a
dancer and bins beside pedestrians as person (model card: What would help next 19); the dark
furniture shapes (augment.paste_clutter) teach rooms, not streets and parks. Each thing is a matte
(its silhouette) and a texture made from a scene crop recoloured to what the thing is, its light and
shade kept. Pure functions of (rng, arrays).
"""
from __future__ import annotations

import cv2
import numpy as np

from .colour import recolour

OUTDOOR_KINDS = ("foliage", "flowers", "trunk", "bin")
# OpenCV hue ranges (0-179)
LEAF_HUES = (30, 85)  # yellow-green to blue-green
BARK_HUES = (5, 25)  # brown, orange-brown
FLOWER_HUES = ((0, 10), (160, 180), (140, 160), (20, 32), (120, 140))  # red, pink, magenta, yellow, violet
BIN_COLOURS = ((60, 80, 70), (90, 90, 90), (40, 40, 40), (120, 70, 40), (40, 110, 60))  # BGR: green, grey, black, blue


def _crown(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A bush or tree crown: overlapping ellipses filling most of the box, a ragged outline."""
    m = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(6, 14))):
        cx, cy = int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.25, 0.8) * h)
        ax, ay = max(1, int(rng.uniform(0.15, 0.35) * w)), max(1, int(rng.uniform(0.15, 0.35) * h))
        cv2.ellipse(m, (cx, cy), (ax, ay), float(rng.uniform(0, 180)), 0, 360, 255, -1)
    return m


def _trunk(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A trunk: a tall band, wider at the foot, leaning a little, sometimes forking at the top."""
    m = np.zeros((h, w), np.uint8)
    foot = w * rng.uniform(0.35, 0.6)
    top = foot * rng.uniform(0.5, 0.8)
    lean = w * rng.uniform(-0.2, 0.2)
    cx = w / 2
    pts = np.array([[cx - foot / 2, h - 1], [cx + foot / 2, h - 1],
                    [cx + lean + top / 2, 0], [cx + lean - top / 2, 0]], np.int32)
    cv2.fillConvexPoly(m, pts, 255)
    if rng.random() < 0.4:  # a fork: a branch from two thirds up
        y0 = int(h * rng.uniform(0.25, 0.45))
        side = 1 if rng.random() < 0.5 else -1
        x1 = int(np.clip(cx + side * w * 0.45, 0, w - 1))
        cv2.line(m, (int(cx + lean / 2), y0), (x1, 0), 255, max(1, int(top / 2)))
    return m


def _bin(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A litter or wheelie bin standing at the foot of the box (a bin is smaller than the shelves the
    box is sized for): a body a little narrower at the foot, a wider lid on top."""
    m = np.zeros((h, w), np.uint8)
    bh = max(4, int(h * rng.uniform(0.35, 0.7)))
    bw = max(4, min(w, int(bh * rng.uniform(0.5, 0.9))))
    x0, y0 = int(rng.integers(0, w - bw + 1)), h - bh
    lid = max(1, int(bh * rng.uniform(0.06, 0.12)))
    inset = int(bw * rng.uniform(0.0, 0.12))
    pts = np.array([[x0 + inset, h - 1], [x0 + bw - 1 - inset, h - 1], [x0 + bw - 1, y0 + lid], [x0, y0 + lid]],
                   np.int32)
    cv2.fillConvexPoly(m, pts, 255)
    cv2.rectangle(m, (x0, y0), (x0 + bw - 1, y0 + lid), 255, -1)
    return m


SHAPES = {"foliage": _crown, "flowers": _crown, "trunk": _trunk, "bin": _bin}  # kind -> its silhouette


def outdoor_shape(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The silhouette of one outdoor thing as an 8-bit matte of (h, w)."""
    if kind not in SHAPES:
        raise ValueError(f"unknown outdoor thing {kind!r} (known: {', '.join(OUTDOOR_KINDS)})")
    return SHAPES[kind](h, w, rng)


def _speckled(texture: np.ndarray, hue: int, sat: tuple[int, int], value_scale: float, value_add: float,
              rng: np.random.Generator) -> np.ndarray:
    """recolour with a saturation drawn afresh for each pixel in [sat[0], sat[1]): leaves and bark are
    never one flat colour."""
    saturation = rng.integers(sat[0], sat[1], size=texture.shape[:2]).astype(np.uint8)
    return recolour(texture, hue, saturation, value_scale, value_add)


def _dapple(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Light through leaves, (h, w) float32 about 0.35-1.35: leaf-sized specks over larger sunlit and
    shaded patches, smooth at both scales (blocks would be a cue no real bush gives)."""
    fine = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), max(0.7, min(h, w) * 0.01))
    fine = (fine - fine.min()) / max(float(fine.max() - fine.min()), 1e-6)
    coarse = cv2.resize(rng.uniform(0.6, 1.2, (max(2, h // 16), max(2, w // 16))).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    return (0.35 + fine) * coarse


def _leaves(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Green leaves: a leaf hue, dappled light and shade."""
    h, w = texture.shape[:2]
    leafy = _speckled(texture, int(rng.integers(*LEAF_HUES)), (70, 220), rng.uniform(0.3, 0.7), 10, rng)
    return np.clip(leafy * _dapple(h, w, rng)[..., None], 0, 255).astype(np.uint8)


def _blossom(leaves: np.ndarray, matte: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flowers dotted over leaves: small saturated blooms of one or two colours."""
    out = leaves.copy()
    h, w = matte.shape
    ys, xs = np.nonzero(matte)
    if len(ys) == 0:
        return out
    radius = min(h, w) * rng.uniform(0.015, 0.04)
    colours = []
    for _ in range(int(rng.integers(1, 3))):
        lo, hi = FLOWER_HUES[int(rng.integers(len(FLOWER_HUES)))]
        hsv = np.array([[[int(rng.integers(lo, hi)), int(rng.integers(150, 256)), int(rng.integers(150, 256))]]],
                       np.uint8)
        colours.append(tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]))
    for i in rng.choice(len(ys), size=min(len(ys), int(rng.integers(15, 60))), replace=False):
        bloom = max(1, int(radius * rng.uniform(0.5, 1.5)))
        cv2.circle(out, (int(xs[i]), int(ys[i])), bloom, colours[int(rng.integers(len(colours)))], -1)
    return out


def _bark(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bark: brown or grey, streaked along the trunk."""
    h, w = texture.shape[:2]
    grey = rng.random() < 0.3  # birch, plane, beech
    barky = _speckled(texture, int(rng.integers(*BARK_HUES)), (0, 40) if grey else (60, 160),
                      rng.uniform(0.3, 0.8), 15, rng)
    streaks = cv2.resize(rng.uniform(0.6, 1.2, (max(1, h // 12), max(1, w // 3))).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_LINEAR)
    return np.clip(barky * streaks[..., None], 0, 255).astype(np.uint8)


def _bin_surface(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bin's moulded plastic or painted metal: one colour, lit from one side."""
    h, w = texture.shape[:2]
    colour = np.array(BIN_COLOURS[int(rng.integers(len(BIN_COLOURS)))], np.float32) * rng.uniform(0.7, 1.4)
    light = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0), w, dtype=np.float32)[None, :, None]
    grain = texture.astype(np.float32).mean(axis=2, keepdims=True) / 255.0 * 0.5 + 0.75  # scuffs and dirt
    return np.clip(colour * light * grain, 0, 255).astype(np.uint8)


def outdoor_thing(crop: np.ndarray, rng: np.random.Generator,
                  kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One outdoor thing the size of `crop` (BGR uint8, a piece of some scene): (texture, matte);
    kind: one of OUTDOOR_KINDS, or None for a random one."""
    h, w = crop.shape[:2]
    if kind is None:
        kind = OUTDOOR_KINDS[int(rng.integers(len(OUTDOOR_KINDS)))]
    matte = outdoor_shape(kind, h, w, rng)
    if kind == "foliage":
        texture = _leaves(crop, rng)
    elif kind == "flowers":
        texture = _blossom(_leaves(crop, rng), matte, rng)
    elif kind == "trunk":
        texture = _bark(crop, rng)
    else:
        texture = _bin_surface(crop, rng)
    return texture, matte
