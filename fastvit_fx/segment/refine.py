"""Mask refinement: edge-aware upsampling (fast guided filter) and temporal smoothing without lag."""
from __future__ import annotations

import cv2
import numpy as np


APPLY_SCALE = 0.5  # the guided filter's apply resolution, as a fraction of the frame
# (radius, eps) per guide, each the best of a sweep on train photos (never val). Colour, with earlier
# trained weights, 209 photos, full body / portraits: r2 eps 1e-3 0.911 / 0.9388, r4 eps 3e-4 0.914 / 0.9394, r4 eps
# 1e-4 0.915 / 0.9394; 3e-4 is kept so sensor noise in dim webcam frames is not followed into the mask.
GUIDE_DEFAULTS = {"grey": (2, 1e-3), "color": (4, 3e-4)}
# The fit mask ~ a . colour + b carries the frame's texture into the mask (a face, polka dots, dark tights
# at 0.6) and leaves a faint haze around the person. Stretching [0.25, 0.75] to [0, 1] makes the inside
# solid and the outside clean for effects that use the mask as alpha, and keeps edges soft. 0.5 stays
# 0.5, so a thresholded mask (and every mIoU here) is unchanged. On full-body val photo 0038:
# interior pixels under 0.9 went from 11.5% to 0.7%; background pixels over 0.1 from 13.5% to 2.2%.
MASK_STRETCH = (0.25, 0.75)
# The fit averages the mask over windows about 36 px wide at 480x360: wider than a pedestrian or a
# person across a room, whom it then fades towards the floor around them, and it follows colour into
# furniture beside a person. Held within 0.35 of the network's own probability, it decides only where the
# network is unsure. Chosen by a rule on the train split (never val; model card, "The guided filter and
# small people"): with the shipped weights, train portraits 0.9515 = 0.9515, full body 0.9282 -> 0.9278,
# indoor 0.9082 -> 0.9092, poses 0.7657 -> 0.7695; val indoor 0.7479 -> 0.7614, poses 0.6981 -> 0.7002,
# photos unchanged (0.9489 = 0.9489, 0.9195 -> 0.9197). Tighter holds gained more indoor and cost full body.
NETWORK_HOLD = 0.35


WORK_SCALE = 0.25  # the fit's working resolution, as a fraction of the frame
FINE_WORK_SCALE = 0.5  # for frames whose people are all small: windows half as wide
# the finer fit works on four times the pixels; on frames up to this tall that is no more than the
# coarse fit of a 720p frame, the cost the app is sized for
FINE_FIT_MAX_HEIGHT = 360
# ...and only where the tallest person found is shorter than this fraction of the frame. Chosen by a rule
# on the train split (model card, "The guided filter and small people"): with the shipped weights, train
# indoor 0.9092 -> 0.9128, street 0.1311 -> 0.1526, photos unchanged; val street 0.1639 -> 0.2248,
# indoor 0.7614 -> 0.7730, photos unchanged.
SMALL_PEOPLE_BELOW = 0.5
# On those frames (any size) the network is unsure of the people it finds: the fit puts them at 0.5-0.6
# and the haze beside them at 0.3-0.45, so MASK_STRETCH leaves the people two-thirds opaque and the haze a
# tint. A steeper stretch about 0.5 shows them solid and clears the haze, and cannot move a thresholded
# mask. Chosen by a rule on the train split (model card, "A steeper stretch on small-people frames"): the
# mean |mask - truth| over labelled pixels, train street 0.081 -> 0.050, indoor 0.0040 -> 0.0038, photos
# unchanged; val street 0.060 -> 0.032.
SMALL_PEOPLE_STRETCH = (0.45, 0.55)


def tallest_person(prob: np.ndarray, threshold: float = 0.5) -> float:
    """Height of the tallest connected region of prob > threshold, as a fraction of the map's height
    (0.0 where there is none): how large the largest person found is, read off the network's own map."""
    found = (prob > threshold).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_HEIGHT].max()) / prob.shape[0]


def apply_size(frame_h: int, frame_w: int, apply_scale: float = APPLY_SCALE) -> tuple[int, int]:
    """(width, height) at which guided_upsample applies its fit: what `frame_at_apply` must be."""
    return max(8, int(frame_w * apply_scale)), max(8, int(frame_h * apply_scale))


def guided_upsample(mask_low: np.ndarray, frame_bgr: np.ndarray, radius: int | None = None,
                    eps: float | None = None, work_scale: float = WORK_SCALE, apply_scale: float = APPLY_SCALE,
                    frame_at_apply: np.ndarray | None = None, color: bool = True,
                    stretch: tuple[float, float] | None = MASK_STRETCH,
                    hold: float | None = NETWORK_HOLD) -> np.ndarray:
    """Fast guided filter (He & Sun 2015): fit mask ~ a . colour + b at a low working resolution,
    upsample (a, b), apply them at `apply_scale` of the frame, and upsample the result once.

    Applying at half resolution instead of full is 6x cheaper at 1280x720 (1.5 vs 9 ms here) and keeps
    most of the gain: on a disc test, 0.02% of pixels on the wrong side of the edge vs 0% at full
    resolution and 0.17% with plain bilinear upsampling.
    color: guide by the three colour channels (the default), not by grey alone. Red trousers on green
    grass can be one grey; on val photos (earlier trained weights, one pass) the colour guide scored +0.0055
    mIoU on full body and +0.0004 on portraits over the grey one, for about 2 ms more at 1280x720
    (3.3 vs 1.0 ms, `fastvit-fx bench --sections refine`).
    mask_low: float32 in [0, 1], any size; frame_bgr: HxWx3 uint8. Returns float32 HxW in [0, 1].
    frame_at_apply: the frame already resized (INTER_AREA) to apply_size(H, W), when the caller has
    it (the Segmenter letterboxes from it too, so a 720p frame is downscaled once, not twice).
    radius, eps: by default the best of a sweep on train photos for each guide (GUIDE_DEFAULTS).
    stretch: (low, high) mapped linearly to (0, 1) before clipping (MASK_STRETCH); None keeps the raw fit.
    hold: keep the result within this much of the network's own (bilinear) probability, so the guide
    decides only where the network is unsure (|p - 0.5| < hold; NETWORK_HOLD); None lets the fit go anywhere.
    """
    default_radius, default_eps = GUIDE_DEFAULTS["color" if color else "grey"]
    radius = default_radius if radius is None else radius
    eps = default_eps if eps is None else eps
    H, W = frame_bgr.shape[:2]
    aw, ah = apply_size(H, W, apply_scale)
    wh, ww = max(8, int(H * work_scale)), max(8, int(W * work_scale))
    if frame_at_apply is None or frame_at_apply.shape[:2] != (ah, aw):
        frame_at_apply = cv2.resize(frame_bgr, (aw, ah), interpolation=cv2.INTER_AREA)
    p = cv2.resize(mask_low, (ww, wh), interpolation=cv2.INTER_LINEAR)
    k = (2 * radius + 1, 2 * radius + 1)
    fit = _fit_color if color else _fit_gray
    q = fit(frame_at_apply, p, (ww, wh), k, eps)
    if stretch is not None:  # at the apply resolution: a quarter of the pixels, and the upsizing keeps edges soft
        low, high = stretch
        q -= low
        q *= 1.0 / (high - low)
        np.clip(q, 0.0, 1.0, out=q)
    if hold is not None:
        net = cv2.resize(mask_low, (aw, ah), interpolation=cv2.INTER_LINEAR)
        np.clip(q, net - hold, net + hold, out=q)
    if (ah, aw) != (H, W):
        q = cv2.resize(q, (W, H), interpolation=cv2.INTER_LINEAR)
    return np.clip(q, 0.0, 1.0, out=q)


def _fit_gray(frame_at_apply: np.ndarray, p: np.ndarray, work_wh, k, eps: float) -> np.ndarray:
    """Grey guide: per-pixel a, b from 1-D regressions; applied at the apply resolution."""
    ah, aw = frame_at_apply.shape[:2]
    gray = cv2.cvtColor(frame_at_apply, cv2.COLOR_BGR2GRAY)
    guide = cv2.resize(gray, work_wh, interpolation=cv2.INTER_AREA).astype(np.float32) * (1 / 255)
    mean_i = cv2.boxFilter(guide, -1, k)
    mean_p = cv2.boxFilter(p, -1, k)
    cov_ip = cv2.boxFilter(guide * p, -1, k) - mean_i * mean_p
    var_i = cv2.boxFilter(guide * guide, -1, k) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    # the 1/255 of the uint8 guide is folded into a, so the apply step reads the grey image as is
    a = cv2.resize(cv2.boxFilter(a, -1, k) * (1 / 255), (aw, ah), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(cv2.boxFilter(b, -1, k), (aw, ah), interpolation=cv2.INTER_LINEAR)
    q = cv2.multiply(gray, a, dtype=cv2.CV_32F)
    cv2.add(q, b, dst=q)
    return q


def _fit_color(frame_at_apply: np.ndarray, p: np.ndarray, work_wh, k, eps: float) -> np.ndarray:
    """Colour guide: per-pixel 3-vector a from the 3x3 colour covariance (inverted in closed form,
    elementwise, which is far cheaper than a batched solve)."""
    ah, aw = frame_at_apply.shape[:2]
    guide = cv2.resize(frame_at_apply, work_wh, interpolation=cv2.INTER_AREA).astype(np.float32) * (1 / 255)
    box = lambda x: cv2.boxFilter(x, -1, k)  # noqa: E731
    mean_i = box(guide)
    mean_p = box(p)
    c0, c1, c2 = cv2.split(box(guide * p[..., None]) - mean_i * mean_p[..., None])  # cov(I, p)
    m0, m1, m2 = cv2.split(mean_i)
    g0, g1, g2 = cv2.split(guide)
    # the six distinct entries of cov(I) + eps * identity
    s00 = box(g0 * g0) - m0 * m0 + eps
    s01 = box(g0 * g1) - m0 * m1
    s02 = box(g0 * g2) - m0 * m2
    s11 = box(g1 * g1) - m1 * m1 + eps
    s12 = box(g1 * g2) - m1 * m2
    s22 = box(g2 * g2) - m2 * m2 + eps
    # adjugate of the symmetric matrix, then a = adj . cov(I, p) / det
    i00, i01, i02 = s11 * s22 - s12 * s12, s02 * s12 - s01 * s22, s01 * s12 - s02 * s11
    i11, i12, i22 = s00 * s22 - s02 * s02, s01 * s02 - s00 * s12, s00 * s11 - s01 * s01
    inv_det = 1.0 / (s00 * i00 + s01 * i01 + s02 * i02)
    a0 = (i00 * c0 + i01 * c1 + i02 * c2) * inv_det
    a1 = (i01 * c0 + i11 * c1 + i12 * c2) * inv_det
    a2 = (i02 * c0 + i12 * c1 + i22 * c2) * inv_det
    b = mean_p - a0 * m0 - a1 * m1 - a2 * m2
    # the 1/255 of the uint8 guide is folded into a, so the apply step reads the frame as is
    a = cv2.resize(box(cv2.merge([a0, a1, a2])) * (1 / 255), (aw, ah), interpolation=cv2.INTER_LINEAR)
    q = cv2.resize(box(b), (aw, ah), interpolation=cv2.INTER_LINEAR)
    weighted = cv2.multiply(frame_at_apply, a, dtype=cv2.CV_32F)
    q += cv2.transform(weighted, _SUM_CHANNELS)  # a . colour per pixel, far faster than numpy's sum(axis=2)
    return q


_SUM_CHANNELS = np.ones((1, 3), np.float32)


# Temporal smoothing, gated by the frame as well as by the mask. A mask change where the frame did not
# change is the network's own noise (pixels flipping on a still scene); one where the frame moved may be
# the person moving and must pass at once, or effects trail behind the person (ghosts). The frame is
# compared in colour (a green shirt leaving a grey curtain can be one grey), against a remembered frame
# that follows the frame as the mask does, so slow motion adds up against it instead of passing as
# noise. Settings: the lowest flicker on the train split's video sequences (shipped weights, never val)
# among those that lost no sequence mIoU there and at most 0.003 IoU on the demo at 30 fps (every frame,
# calm and fast): train flicker 0.166 -> 0.145, mIoU 0.522 -> 0.524; val flicker 0.174 -> 0.147, mIoU
# 0.566 -> 0.571; demo calm 0.907 -> 0.904, fast 0.922 -> 0.924 (against the mask-only gate before it).
# A stronger blend (0.8) halved flicker further on the sequences but held the network's passing
# mistakes for longer: 0.021 less IoU on the calm demo. Cost at 1280x720: about 2 ms a frame over the
# mask-only gate (1.5 -> 3.4 ms, this 2-core machine under load).
SMOOTH_STRENGTH = 0.6  # weight of the running mask where neither the frame nor the mask moved
MOTION_HALVINGS = 2  # the frame difference is taken at a quarter of the frame's size
FRAME_NOISE = 3.0  # levels of frame difference (0-255, largest channel) taken as sensor noise, not motion
FRAME_MOVED = 15.0  # levels at which a pixel counts as fully moved
MOTION_GROW = 1  # pixels (at the quarter size) a moving edge's motion spreads, to cover the mask edge beside it
# The strength above is per frame of a 30 fps camera (the rate it was judged at on the demo). Given
# the time since the previous frame, the smoother keeps the same blend per second instead: a camera or
# a segmenter running at 15 fps blends 0.6^2 per step, and a clip at one frame a second (CamVid) not
# at all (0.6^30), where a per-frame blend held a pedestrian found once below 0.5 into the next frame.
REFERENCE_INTERVAL_S = 1 / 30


def motion_image(frame_bgr: np.ndarray, halvings: int = MOTION_HALVINGS) -> np.ndarray:
    """The frame, small and lightly blurred (float32 BGR): what frame_motion compares."""
    small = frame_bgr
    for _ in range(halvings):  # 2x area steps: 5x faster than one 4x step at 720p (0.3 vs 1.5 ms)
        h, w = small.shape[:2]
        small = cv2.resize(small, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small.astype(np.float32), (0, 0), 1.0)


def frame_motion(previous: np.ndarray, current: np.ndarray, noise: float = FRAME_NOISE,
                 moved: float = FRAME_MOVED, grow: int = MOTION_GROW) -> np.ndarray:
    """Per pixel of two motion_image images, how much the frame moved (largest channel): 0 (still)
    to 1 (moved)."""
    m = cv2.absdiff(current, previous)
    if m.ndim == 3:
        b, g, r = cv2.split(m)
        m = cv2.max(cv2.max(b, g), r)  # 25x faster than numpy's max over the channel axis
    m -= noise
    m *= 1.0 / (moved - noise)
    np.clip(m, 0.0, 1.0, out=m)
    if grow:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    return m


class TemporalSmoother:
    """Per-pixel adaptive blend: small changes (flicker) are averaged away, large ones pass through at
    once where the frame moved too (a moving hand), so the mask neither shimmers nor trails behind
    motion. Without frames it gates by the mask alone."""

    def __init__(self, strength: float = SMOOTH_STRENGTH, motion_threshold: float = 0.25) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"strength must be in [0, 1), got {strength}")
        self.strength = strength
        self.motion_threshold = motion_threshold
        self._prev: np.ndarray | None = None
        self._seen: np.ndarray | None = None  # the remembered frame (motion_image)

    def reset(self) -> None:
        self._prev = None
        self._seen = None

    def strength_after(self, interval_s: float | None) -> float:
        """The running mask's weight for a frame `interval_s` after the previous one: `strength` per
        REFERENCE_INTERVAL_S, compounded; `strength` itself where the interval is unknown."""
        if interval_s is None or not interval_s > 0.0:
            return self.strength
        return self.strength ** (interval_s / REFERENCE_INTERVAL_S)

    def __call__(self, mask: np.ndarray, frame_bgr: np.ndarray | None = None,
                 interval_s: float | None = None) -> np.ndarray:
        """interval_s: seconds since the previous frame (a camera's timestamps, a clip's frame rate);
        None blends by `strength` per call."""
        prev, seen = self._prev, self._seen
        small = motion_image(frame_bgr) if frame_bgr is not None else None
        strength = self.strength_after(interval_s)
        if prev is None or prev.shape != mask.shape or strength < 1e-4:
            self._prev, self._seen = mask.copy(), small
            return mask
        moved = None
        if small is not None and seen is not None and seen.shape == small.shape:
            moved = frame_motion(seen, small)
            # the remembered frame follows the frame as the mask does: slow motion adds up against it
            follow = moved * strength + (1.0 - strength)
            seen += (small - seen) * follow[..., None]
        else:
            self._seen = small
        diff = np.subtract(mask, prev)
        # how far the mask moved: 0 for tiny changes, 1 at the motion threshold (in place: at 720p
        # every full-size temporary costs about a millisecond)
        w = np.abs(diff)
        w *= 1.0 / self.motion_threshold
        cv2.threshold(w, 1.0, 1.0, cv2.THRESH_TRUNC, dst=w)  # min(w, 1), 10x faster than numpy's
        if moved is not None:
            w *= cv2.resize(moved, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_LINEAR)
        # weight of the new mask: 1 - strength where nothing moved, rising to 1 where both moved
        w *= strength
        w += 1.0 - strength
        diff *= w
        prev += diff
        return prev.copy()
