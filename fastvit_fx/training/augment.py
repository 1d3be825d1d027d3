"""Augmentation that turns labelled photos into webcam-like training frames.

The data are portraits and fashion photos: a large person in the middle of a tall picture. A webcam
sees head-and-shoulders at a desk, upper bodies, people small in a wide room, in poor light and with
a noisy sensor. So most samples are composed: the person is cut out, scaled to a webcam framing,
pasted onto a person-free scene (or another photo, whose person then joins the label) and put
through the camera's faults. Pure functions of (rng, arrays); OpenCV does the pixel work.
"""
from __future__ import annotations

import cv2
import numpy as np

# mode -> (probability, person height as a fraction of the frame height)
FRAMINGS = {
    "native": 0.15,  # the photo itself, randomly cropped: keeps the real context and edges
    # the whole photo at its own aspect, letterboxed like the Segmenter does it: a standing person
    # filling a tall frame's height, which no square crop ever shows
    "whole": 0.25,
    "close": 0.15,  # head and shoulders filling the frame, cut at the bottom like a webcam
    "desk": 0.15,  # upper body, some room around
    # full body small in a wide frame, anywhere: run 3 had 0.2 and lost half of run 2's score on
    # people small in wide frames, so it is back at 0.3 (run 4)
    "small": 0.3,
}

DEFOCUS_P = 0.15  # share of samples whose scene is thrown out of focus (from run 5 on)


def parse_framings(text: str | None) -> dict[str, float]:
    """'native=0.3,whole=0.4,...' -> a framing mix (missing modes get 0); None -> FRAMINGS.

    For a closing phase on frames closer to the val photos (the way YOLOX ends without mosaic)."""
    if not text:
        return dict(FRAMINGS)
    mix = dict.fromkeys(FRAMINGS, 0.0)
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in FRAMINGS:
            raise ValueError(f"unknown framing {name!r} (known: {', '.join(FRAMINGS)})")
        try:
            mix[name] = float(value)
        except ValueError:
            raise ValueError(f"{part!r} is not framing=probability") from None
    if sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise ValueError(f"{text!r} needs non-negative probabilities with a positive sum")
    return mix


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask > 127)
    if len(ys) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def random_crop_to(img: np.ndarray, out_h: int, out_w: int, rng: np.random.Generator,
                   mask: np.ndarray | None = None, min_scale: float = 0.45):
    """Random-resized crop with the output's aspect (scene backgrounds, native photos)."""
    h, w = img.shape[:2]
    aspect = out_w / out_h
    scale = rng.uniform(min_scale, 1.0)
    ch = int(min(h, w / aspect) * scale)
    cw = int(ch * aspect)
    ch, cw = max(ch, 8), max(cw, 8)
    y0 = int(rng.integers(0, max(1, h - ch + 1)))
    x0 = int(rng.integers(0, max(1, w - cw + 1)))
    crop = cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (out_w, out_h), interpolation=cv2.INTER_AREA)
    if mask is None:
        return crop
    m = cv2.resize(mask[y0:y0 + ch, x0:x0 + cw], (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    return crop, m


def paste_person(canvas: np.ndarray, label: np.ndarray, img: np.ndarray, mask: np.ndarray,
                 mode: str, rng: np.random.Generator) -> None:
    """Cut the person out of (img, mask) and paste them onto canvas in place, updating label."""
    box = mask_bbox(mask)
    if box is None:
        return
    x0, y0, x1, y1 = box
    H, W = canvas.shape[:2]
    touches_bottom = y1 >= mask.shape[0] - 2  # portraits are cut at the chest: keep that edge at the frame's bottom
    lo, hi = {"close": (0.75, 1.5), "desk": (0.45, 0.85), "small": (0.08, 0.6)}[mode]
    # a standing person seen up close is a head and torso cut at the waist or thighs, not a pair of legs
    upper_body = mode == "close" and not touches_bottom
    if upper_body:
        lo, hi = 1.6, 3.0
    scale = rng.uniform(lo, hi) * H / (y1 - y0)
    nh, nw = max(2, int((y1 - y0) * scale)), max(2, int((x1 - x0) * scale))
    if nw > 2 * W:  # very wide subjects: cap so something of them stays in frame
        scale *= 2 * W / nw
        nh, nw = max(2, int((y1 - y0) * scale)), max(2, int((x1 - x0) * scale))
    person = cv2.resize(img[y0:y1, x0:x1], (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    alpha = cv2.resize(mask[y0:y1, x0:x1], (nw, nh), interpolation=cv2.INTER_LINEAR)
    # top-left corner on the canvas
    px = int(rng.integers(-nw // 4, max(-nw // 4 + 1, W - 3 * nw // 4)))
    if upper_body:
        py = int(rng.uniform(-0.03, 0.15) * H)
    elif touches_bottom or mode == "close":
        py = H - nh + int(rng.integers(0, max(1, nh // 6)))
    else:
        py = int(rng.integers(-nh // 8, max(-nh // 8 + 1, H - nh + nh // 8)))
    cx0, cy0, cx1, cy1 = max(px, 0), max(py, 0), min(px + nw, W), min(py + nh, H)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    sx0, sy0 = cx0 - px, cy0 - py
    sub_a = alpha[sy0:sy0 + cy1 - cy0, sx0:sx0 + cx1 - cx0]
    # a slightly feathered matte avoids a hard cut-out rim the network could learn to look for
    a = cv2.GaussianBlur(sub_a, (3, 3), 0).astype(np.float32)[..., None] / 255.0
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    sub_p = person[sy0:sy0 + cy1 - cy0, sx0:sx0 + cx1 - cx0].astype(np.float32)
    canvas[cy0:cy1, cx0:cx1] = (sub_p * a + region * (1 - a)).astype(np.uint8)
    label[cy0:cy1, cx0:cx1] = np.maximum(label[cy0:cy1, cx0:cx1], sub_a)


def defocus_background(frame: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A shallow depth of field: the scene blurred, the labelled people sharp in front of it.

    Portraits shot with a fast lens (and phones' portrait modes) put people in front of a soft, bright
    blur, which the network otherwise bleeds into the mask (the worst val portraits)."""
    sigma = rng.uniform(0.01, 0.04) * max(frame.shape[:2])
    blurred = cv2.GaussianBlur(frame, (0, 0), sigma)
    if rng.random() < 0.5:  # out-of-focus highlights bloom
        blurred = cv2.addWeighted(blurred, 1.0, cv2.GaussianBlur(blurred, (0, 0), 2 * sigma), 0.3, 0)
    a = label.astype(np.float32)[..., None] / 255.0
    return (frame * a + blurred * (1 - a)).astype(np.uint8)


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = int(rng.integers(3, 13))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(img, -1, kernel)


def camera_faults(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour, exposure, low light, sensor noise, blur and JPEG: what a cheap webcam does."""
    out = img.astype(np.float32)
    if rng.random() < 0.8:  # colour and exposure jitter
        out = out * rng.uniform(0.6, 1.4) + rng.uniform(-30, 30)
        gray = out.mean(axis=2, keepdims=True)
        out = gray + (out - gray) * rng.uniform(0.5, 1.5)
        out = out * rng.uniform(0.85, 1.15, size=3)  # white balance
    if rng.random() < 0.2:  # low light: dark, then gain brings up the noise
        out = out * rng.uniform(0.15, 0.5)
        out = out + rng.normal(0, rng.uniform(2, 8), out.shape)
        out = out * rng.uniform(1.0, 2.0)
    elif rng.random() < 0.3:
        out = out + rng.normal(0, rng.uniform(2, 10), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.05:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    r = rng.random()
    if r < 0.15:
        out = motion_blur(out, rng)
    elif r < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 2.0))
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def lens_and_camera(frame: np.ndarray, label: np.ndarray, rng: np.random.Generator, faults_p: float = 1.0):
    """The last steps of every sample: sometimes a shallow depth of field, then (with probability
    faults_p) the camera's faults."""
    frame, label = np.ascontiguousarray(frame), np.ascontiguousarray(label)
    if rng.random() < DEFOCUS_P:
        frame = defocus_background(frame, label, rng)
    if rng.random() < faults_p:
        frame = camera_faults(frame, rng)
    return frame, label


def letterbox_into(img: np.ndarray, label: np.ndarray, out_h: int, out_w: int,
                   pad_value: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Fit a wide frame into the training square the way the Segmenter pads (bottom/right)."""
    h, w = img.shape[:2]
    s = min(out_h / h, out_w / w)
    nh, nw = int(round(h * s)), int(round(w * s))
    canvas = np.empty((out_h, out_w, 3), np.uint8)
    canvas[:] = pad_value
    lab = np.zeros((out_h, out_w), np.uint8)
    canvas[:nh, :nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    lab[:nh, :nw] = cv2.resize(label, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, lab


def whole_photo(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray, out_size: int,
                pad_value: tuple[int, int, int], faults_p: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The photo at its own aspect (a mild crop at most), through the camera's faults, letterboxed."""
    h, w = img.shape[:2]
    s = rng.uniform(0.8, 1.0)
    ch, cw = max(8, int(h * s)), max(8, int(w * s))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    frame, label = img[y0:y0 + ch, x0:x0 + cw], mask[y0:y0 + ch, x0:x0 + cw]
    if rng.random() < 0.5:
        frame, label = frame[:, ::-1], label[:, ::-1]
    frame, label = lens_and_camera(frame, label, rng, faults_p)
    return letterbox_into(frame, np.ascontiguousarray(label), out_size, out_size, pad_value)


def make_sample(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray,
                backgrounds: list[np.ndarray], others: list[tuple[np.ndarray, np.ndarray]],
                out_size: int, pad_value: tuple[int, int, int] = (104, 116, 124),
                scene_people: list[tuple[np.ndarray, np.ndarray]] | None = None,
                framings: dict[str, float] | None = None, faults_p: float = 1.0):
    """One augmented (BGR uint8 out_size^2, mask uint8) pair from one labelled photo.

    backgrounds: person-free scenes (may be empty when scene_people is not); others: people to paste
    as a second person; scene_people:
    photos whose whole picture may serve as the scene (their person stays in the label: several
    people in one frame). Only pass photos with every person labelled (the full-body set leaves
    bystanders unlabelled). framings: the mix of framings (default FRAMINGS); faults_p: the share
    of samples put through the camera's faults.
    """
    wide = rng.random() < 0.3  # a 16:9 or 4:3 camera frame, letterboxed like the app does it
    out_h, out_w = out_size, out_size
    if wide:
        out_w = out_size
        out_h = int(out_size / (16 / 9 if rng.random() < 0.7 else 4 / 3))
    modes, probs = zip(*(framings or FRAMINGS).items())
    mode = str(rng.choice(modes, p=np.array(probs) / sum(probs)))
    if mode == "whole":
        return whole_photo(rng, img, mask, out_size, pad_value, faults_p)
    if mode == "native":
        frame, label = random_crop_to(img, out_h, out_w, rng, mask=mask, min_scale=0.5)
    else:
        if scene_people and (not backgrounds or rng.random() < 0.25):
            oimg, omask = scene_people[int(rng.integers(len(scene_people)))]
            frame, label = random_crop_to(oimg, out_h, out_w, rng, mask=omask, min_scale=0.6)
        else:
            bg = backgrounds[int(rng.integers(len(backgrounds)))]
            frame = random_crop_to(bg, out_h, out_w, rng, min_scale=0.4)
            label = np.zeros((out_h, out_w), np.uint8)
        frame = frame.copy()
        label = label.copy()
        paste_person(frame, label, img, mask, mode, rng)
        if mode == "small" and others and rng.random() < 0.2:  # a second small person
            oimg, omask = others[int(rng.integers(len(others)))]
            paste_person(frame, label, oimg, omask, "small", rng)
    if rng.random() < 0.5:
        frame, label = frame[:, ::-1], label[:, ::-1]
    frame, label = lens_and_camera(frame, label, rng, faults_p)
    if wide:
        frame, label = letterbox_into(frame, label, out_size, out_size, pad_value)
    return frame, label
