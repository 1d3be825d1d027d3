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

from .colour import recolour
from .outdoor_clutter import outdoor_thing

# mode -> probability of that framing for a labelled photo (portraits, full body, pose cut-outs)
FRAMINGS = {
    "native": 0.15,  # the photo itself, randomly cropped: keeps the real context and edges
    # the whole photo at its own aspect, letterboxed like the Segmenter does it: a standing person
    # filling a tall frame's height, which no square crop ever shows
    "whole": 0.2,
    "close": 0.15,  # head and shoulders filling the frame, cut at the bottom like a webcam
    "desk": 0.15,  # upper body, some room around
    "small": 0.15,  # full body small in a wide frame, anywhere
    # the person turned, upside down or bent (rotated cut-out, limbs cut at the frame's edge): the
    # model had learned "an upright person" and left crouching and jumping people empty
    "pose": 0.1,
    "group": 0.1,  # 3-8 small people on one scene: groups in street photos were missed entirely
}

DEFOCUS_P = 0.15  # share of samples whose scene is thrown out of focus
CLUTTER_P = 0.35  # share of composed samples with dark furniture-like shapes beside / behind the person
NIGHT_P = 0.15  # share of samples turned into night under coloured street or room lamps
IGNORE = 128  # mask value of "not labelled" in the scene sources: no loss, no score
# Red and pink things (a red seat, graffiti, red cloth, poinsettias) were painted as person by the scene
# branches, and saturated red covers 5-12% of the labelled people's pixels against 1-2% of their
# backgrounds (model card: Pasted poses and groups back, from (Id)). OpenCV hue ranges (0-179).
SATURATED_HUES = ((0, 12), (165, 180), (140, 165), (12, 22))  # red, crimson to pink, magenta, orange
HUE_TURN = (30, 150)  # a hue turn far enough that a red shirt is no longer red



def named_probabilities(text: str, known, what: str) -> dict[str, float]:
    """'a=0.3,b=0.1' -> a probability for each name in `known` (0 where not named); an unknown name
    or a value that is not a number is a ValueError naming it."""
    mix = dict.fromkeys(known, 0.0)
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"unknown {what} {name!r} (known: {', '.join(known)})")
        try:
            mix[name] = float(value)
        except ValueError:
            raise ValueError(f"{part!r} is not {what}=probability") from None
    return mix


def parse_framings(text: str | None) -> dict[str, float]:
    """'native=0.3,whole=0.4,...' -> a framing mix (missing modes get 0); None -> FRAMINGS.

    For a closing phase on frames closer to the val photos (the way YOLOX ends without mosaic)."""
    if not text:
        return dict(FRAMINGS)
    mix = named_probabilities(text, FRAMINGS, "framing")
    if sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise ValueError(f"{text!r} needs non-negative probabilities with a positive sum")
    return mix


def parse_framing_names(text: str | None) -> tuple[str, ...]:
    """'small,group' -> ('small', 'group'), each a FRAMINGS key; None or '' -> ()."""
    names = tuple(n.strip() for n in (text or "").split(",") if n.strip())
    unknown = [n for n in names if n not in FRAMINGS]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a framing (one of {', '.join(FRAMINGS)})")
    return names


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """The labelled person's box (x0, y0, x1, y1); unlabelled pixels (IGNORE) are not the person."""
    ys, xs = np.nonzero((mask > 127) & (mask != IGNORE))
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
    lo, hi = {"close": (0.75, 1.5), "desk": (0.45, 0.85), "small": (0.08, 0.6), "pose": (0.35, 1.1),
              "group": (0.06, 0.3)}[mode]
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
    # the cut-out is the labelled person alone: unlabelled people beside them (IGNORE) stay behind
    matte = mask[y0:y1, x0:x1]
    matte = np.where(matte == IGNORE, 0, matte).astype(np.uint8)
    alpha = cv2.resize(matte, (nw, nh), interpolation=cv2.INTER_LINEAR)
    if mode == "pose":
        person, alpha = turn_cutout(person, alpha, rng)
        nh, nw = alpha.shape
        touches_bottom = False
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


def turn_cutout(person: np.ndarray, alpha: np.ndarray, rng: np.random.Generator):
    """Rotate a cut-out by any angle (the canvas grows to hold it), sometimes upside down: handstands,
    people bent double, lying on a sofa, mid-air."""
    if rng.random() < 0.25:
        person, alpha = person[::-1], alpha[::-1]
    angle = float(rng.uniform(-180, 180)) if rng.random() < 0.5 else float(rng.uniform(-60, 60))
    h, w = alpha.shape
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
    nw, nh = int(h * sin + w * cos) + 1, int(h * cos + w * sin) + 1
    rot[0, 2] += nw / 2 - w / 2
    rot[1, 2] += nh / 2 - h / 2
    person = cv2.warpAffine(np.ascontiguousarray(person), rot, (nw, nh), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(np.ascontiguousarray(alpha), rot, (nw, nh), flags=cv2.INTER_LINEAR)
    return person, alpha


def furniture_shape(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A filled silhouette the size of a chair, shelf, cabinet or coat: a polygon, a rounded box, or
    a box on legs, as an 8-bit matte."""
    m = np.zeros((h, w), np.uint8)
    kind = rng.integers(3)
    if kind == 0:  # shelf / cabinet: a box, sometimes with shelves cut out lighter (left to texture)
        cv2.rectangle(m, (0, 0), (w - 1, h - 1), 255, -1)
    elif kind == 1:  # office chair: seat, back and a stem
        cv2.rectangle(m, (w // 6, 0), (5 * w // 6, h // 2), 255, -1)
        cv2.rectangle(m, (0, h // 2), (w - 1, 5 * h // 8), 255, -1)
        cv2.rectangle(m, (w // 2 - max(1, w // 12), 5 * h // 8), (w // 2 + max(1, w // 12), h - 1), 255, -1)
    else:  # coat, bag, sofa end: a blob
        pts = np.stack([rng.uniform(0, w, 7), rng.uniform(0, h, 7)], 1).astype(np.int32)
        cv2.fillConvexPoly(m, cv2.convexHull(pts), 255)
    return m


def saturate(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A BGR uint8 texture recoloured one saturated red, pink, magenta or orange, its light and shade
    kept: a red seat, a pink coat, red flowers, a graffiti letter."""
    lo, hi = SATURATED_HUES[int(rng.integers(len(SATURATED_HUES)))]
    return recolour(texture, int(rng.integers(lo, hi)), int(rng.integers(150, 256)), rng.uniform(0.6, 1.0),
                    rng.uniform(40, 110))


def turn_hue(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The whole picture's hues turned by one random amount (a red shirt turns green or blue, greys stay
    grey): what a person wears stops being a cue for what is a person."""
    hsv = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2HSV)
    shift = int(rng.integers(HUE_TURN[0], HUE_TURN[1] + 1))  # OpenCV hue runs 0-179
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + shift) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def paste_clutter(canvas: np.ndarray, label: np.ndarray, backgrounds: list[np.ndarray],
                  rng: np.random.Generator, in_front: bool, colourful_p: float = 0.0,
                  outdoor_p: float = 0.0) -> None:
    """Hard negatives: dark furniture-like shapes (textured from a scene, darkened) beside or behind
    the person, with their true label, background. In front of a person they also cut the label.
    Dark shelves, chairs and cabinets were painted as person, often as a blob as large as them.
    colourful_p: the share of shapes recoloured a saturated red or pink instead (saturate);
    outdoor_p: the share drawn as a bush, flowering shrub, tree trunk or bin instead (outdoor_clutter)."""
    H, W = canvas.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        h = int(H * rng.uniform(0.2, 0.8))
        w = int(h * rng.uniform(0.3, 1.2))
        if w < 4 or h < 4:
            continue
        src = backgrounds[int(rng.integers(len(backgrounds)))] if backgrounds else canvas
        crop = random_crop_to(src, h, w, rng, min_scale=0.2)
        # each share is drawn only when asked: old recipes' draws stay as they were
        if outdoor_p > 0 and rng.random() < outdoor_p:
            texture, matte = outdoor_thing(crop, rng)
            texture = texture.astype(np.float32)
        else:
            if colourful_p > 0 and rng.random() < colourful_p:
                texture = saturate(crop, rng).astype(np.float32)
            else:
                tint = rng.uniform(0.1, 0.45) * rng.uniform(0.8, 1.2, size=3)  # dark wood, black leather, navy cloth
                texture = crop.astype(np.float32) * tint
            matte = furniture_shape(h, w, rng)
        x, y = int(rng.integers(-w // 3, W - 2 * w // 3)), int(rng.integers(H // 6, max(H // 6 + 1, H - h // 2)))
        cx0, cy0, cx1, cy1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        a = matte[cy0 - y:cy1 - y, cx0 - x:cx1 - x].astype(np.float32)[..., None] / 255.0
        t = texture[cy0 - y:cy1 - y, cx0 - x:cx1 - x]
        region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
        canvas[cy0:cy1, cx0:cx1] = (t * a + region * (1 - a)).astype(np.uint8)
        if in_front:
            keep = a[..., 0] < 0.5
            label[cy0:cy1, cx0:cx1] = np.where(keep, label[cy0:cy1, cx0:cx1], 0)


def night(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Night or a dim room: very dark, lit by coloured lamps (sodium orange, cold blue, warm tungsten)
    from one side, with the noise a camera's gain brings up."""
    out = img.astype(np.float32) / 255.0
    out = out ** rng.uniform(1.5, 3.0) * rng.uniform(0.15, 0.5)  # crush the exposure, keep highlights
    cast = np.array([(0.35, 0.7, 1.0), (1.0, 0.75, 0.5), (0.6, 0.85, 1.0), (1.0, 0.9, 0.8)][int(rng.integers(4))],
                    np.float32)  # BGR
    h, w = out.shape[:2]
    gx = np.linspace(rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0), w, dtype=np.float32)[None, :, None]
    out = out * cast * gx
    out = out * rng.uniform(1.0, 2.5) + rng.normal(0, rng.uniform(0.01, 0.04), out.shape).astype(np.float32)
    return np.clip(out * 255, 0, 255).astype(np.uint8)


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
        # white balance; a fifth of the time a strong cast (stage light, a screen's glow, dusk)
        out = out * (rng.uniform(0.6, 1.4, size=3) if rng.random() < 0.2 else rng.uniform(0.85, 1.15, size=3))
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


def lens_and_camera(frame: np.ndarray, label: np.ndarray, rng: np.random.Generator, faults_p: float = 1.0,
                    defocus: bool = True):
    """The last steps of every sample: sometimes (where `defocus`) a shallow depth of field, then
    (with probability faults_p) the camera's faults."""
    frame, label = np.ascontiguousarray(frame), np.ascontiguousarray(label)
    if rng.random() < DEFOCUS_P and defocus:
        frame = defocus_background(frame, label, rng)
    if rng.random() < faults_p:
        if rng.random() < NIGHT_P / max(faults_p, 1e-6):  # NIGHT_P of all samples, a kind of fault
            frame = night(frame, rng)
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
                pad_value: tuple[int, int, int], faults_p: float = 1.0,
                min_crop: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """The photo at its own aspect (a crop to min_crop of each side at most), through the camera's
    faults, letterboxed. Scene sources come this way: their people are already small."""
    h, w = img.shape[:2]
    s = rng.uniform(min_crop, 1.0)
    ch, cw = max(8, int(h * s)), max(8, int(w * s))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    frame, label = img[y0:y0 + ch, x0:x0 + cw], mask[y0:y0 + ch, x0:x0 + cw]
    if rng.random() < 0.5:
        frame, label = frame[:, ::-1], label[:, ::-1]
    frame, label = lens_and_camera(frame, label, rng, faults_p)
    return letterbox_into(frame, np.ascontiguousarray(label), out_size, out_size, pad_value)


# Scene frames beyond the scales a whole-frame sample shows (whole_photo: 0.55-1.0 of the frame,
# filling the sample). In a 1280x720 camera frame a street reaches the network smaller than that, and
# there the network paints shop windows and cars as people (val street inside webcam-sized frames:
# five false pixels for each true one through the app's path, zoom on or off, against one for one at
# the frames' own size). 'out': the whole frame shrunk inside the sample; 'negative': a close crop
# holding no person, labelled background (model card: Scene frames shrunk and person-free close crops).
SCENE_SCALES = {"out": 0.0, "negative": 0.0}


def parse_scene_scales(text: str | None) -> dict[str, float]:
    """'out=0.25,negative=0.15' -> the share of a scene source's samples drawn each way (0 where not
    named); None -> none (every scene sample is a whole frame, as before)."""
    mix = named_probabilities(text or "", SCENE_SCALES, "scale")
    if min(mix.values()) < 0 or sum(mix.values()) > 1:
        raise ValueError(f"{text!r} needs probabilities >= 0 that sum to at most 1")
    return mix


def zoomed_out_scene(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray, out_size: int,
                     backgrounds: list[np.ndarray], pad_value: tuple[int, int, int] = (104, 116, 124),
                     faults_p: float = 1.0, scale: tuple[float, float] = (0.4, 0.85)):
    """The whole scene frame shrunk to `scale` of the sample's side, somewhere in it, on the letterbox
    pad or on a person-free scene: a street or a room as a wide camera frame shows it, smaller than
    any whole-frame sample. The surround is labelled background; IGNORE stays IGNORE."""
    h, w = img.shape[:2]
    s = rng.uniform(*scale) * out_size / max(h, w)
    nh, nw = max(8, round(h * s)), max(8, round(w * s))
    if backgrounds and rng.random() < 0.5:
        canvas = random_crop_to(backgrounds[int(rng.integers(len(backgrounds)))], out_size, out_size, rng,
                                min_scale=0.4)
    else:
        canvas = np.empty((out_size, out_size, 3), np.uint8)
        canvas[:] = pad_value
    label = np.zeros((out_size, out_size), np.uint8)
    y0, x0 = int(rng.integers(0, out_size - nh + 1)), int(rng.integers(0, out_size - nw + 1))
    if rng.random() < 0.5:
        img, mask = img[:, ::-1], mask[:, ::-1]
    canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    # nearest keeps IGNORE a region of its own; a linear blend would be read as half a person
    label[y0:y0 + nh, x0:x0 + nw] = cv2.resize(np.ascontiguousarray(mask), (nw, nh), interpolation=cv2.INTER_NEAREST)
    # no shallow depth of field: it would blur the shrunk street around its sharp people, a cue no
    # real wide frame gives
    return lens_and_camera(canvas, label, rng, faults_p, defocus=False)


def person_free_crop(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray, out_size: int,
                     faults_p: float = 1.0, side: tuple[float, float] = (0.25, 0.5), tries: int = 12):
    """A close crop (`side` of the frame's shorter side, square) of a scene frame that holds no person,
    enlarged to the sample: cars, shop fronts, shelves and chairs seen as closely as the zoom sees
    them, labelled background (unlabelled pixels in it stay IGNORE: a cyclist is not a negative).
    None when `tries` windows all touch a person (a frame the person fills)."""
    h, w = mask.shape[:2]
    for _ in range(tries):
        c = max(8, int(min(h, w) * rng.uniform(*side)))
        y0, x0 = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
        window = mask[y0:y0 + c, x0:x0 + c]
        # no person, nor a resize's blend of one (IGNORE and its blends with background are < 192)
        if window.max() < 192:
            frame = cv2.resize(img[y0:y0 + c, x0:x0 + c], (out_size, out_size), interpolation=cv2.INTER_LINEAR)
            unlabelled = cv2.resize(window, (out_size, out_size), interpolation=cv2.INTER_NEAREST) > 64
            label = np.where(unlabelled, IGNORE, 0).astype(np.uint8)
            if rng.random() < 0.5:
                frame, label = frame[:, ::-1], label[:, ::-1]
            return lens_and_camera(frame, label, rng, faults_p)
    return None


def make_sample(*args, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """One augmented (BGR uint8 out_size^2, mask uint8) pair from one labelled photo: make_framed_sample
    (same arguments) without the framing's name."""
    frame, label, _ = make_framed_sample(*args, **kwargs)
    return frame, label


def make_framed_sample(rng: np.random.Generator, img: np.ndarray, mask: np.ndarray,
                       backgrounds: list[np.ndarray], others: list[tuple[np.ndarray, np.ndarray]],
                       out_size: int, pad_value: tuple[int, int, int] = (104, 116, 124),
                       scene_people: list[tuple[np.ndarray, np.ndarray]] | None = None,
                       framings: dict[str, float] | None = None, faults_p: float = 1.0,
                       scene: bool = False, pose_cutout: bool = False, colourful_clutter: float = 0.0,
                       outdoor_clutter: float = 0.0):
    """One augmented (BGR uint8 out_size^2, mask uint8, framing) from one labelled photo; framing
    names how it was composed: a FRAMINGS key, or "scene" for a scene source's whole frame.

    backgrounds: person-free scenes (may be empty when scene_people is not); others: people to paste
    as further people (small ones, groups); scene_people: photos whose whole picture may serve as
    the scene (their person stays in the label: several people in one frame). Only pass photos with
    every person labelled (the full-body set leaves bystanders unlabelled). framings: the mix of
    framings (default FRAMINGS); faults_p: the share of samples put through the camera's faults.
    scene: the photo is a whole scene (fixed camera, street, video frame): used at its own scale,
    never cut out at full size; pose_cutout: its one person may also be cut out and turned.
    colourful_clutter: the share of hard-negative shapes coloured saturated red or pink (paste_clutter);
    outdoor_clutter: the share drawn as bushes, flowers, trunks and bins (outdoor_clutter.py).
    The mask keeps IGNORE (128) where the source did not label.
    """
    if scene and not (pose_cutout and rng.random() < 0.4):
        frame, label = whole_photo(rng, img, mask, out_size, pad_value, faults_p, min_crop=0.55)
        if rng.random() < 0.1:  # the camera on its side, or a frame upside down
            k = int(rng.integers(1, 4))
            frame, label = np.rot90(frame, k), np.rot90(label, k)
        return np.ascontiguousarray(frame), np.ascontiguousarray(label), "scene"
    wide = rng.random() < 0.3  # a 16:9 or 4:3 camera frame, letterboxed like the app does it
    out_h, out_w = out_size, out_size
    if wide:
        out_w = out_size
        out_h = int(out_size / (16 / 9 if rng.random() < 0.7 else 4 / 3))
    modes, probs = zip(*(framings or FRAMINGS).items())
    mode = "pose" if scene else str(rng.choice(modes, p=np.array(probs) / sum(probs)))
    if mode == "whole":
        return (*whole_photo(rng, img, mask, out_size, pad_value, faults_p), mode)
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
        clutter = rng.random() < CLUTTER_P
        if clutter:
            paste_clutter(frame, label, backgrounds, rng, in_front=False, colourful_p=colourful_clutter,
                          outdoor_p=outdoor_clutter)
        paste_person(frame, label, img, mask, "small" if mode == "group" else mode, rng)
        if mode == "group" and others:
            for _ in range(int(rng.integers(2, 8))):
                oimg, omask = others[int(rng.integers(len(others)))]
                paste_person(frame, label, oimg, omask, "group", rng)
        elif mode == "small" and others and rng.random() < 0.2:  # a second small person
            oimg, omask = others[int(rng.integers(len(others)))]
            paste_person(frame, label, oimg, omask, "small", rng)
        if clutter and rng.random() < 0.3:  # a chair or a desk in front of them
            paste_clutter(frame, label, backgrounds, rng, in_front=True, colourful_p=colourful_clutter,
                          outdoor_p=outdoor_clutter)
    if rng.random() < 0.5:
        frame, label = frame[:, ::-1], label[:, ::-1]
    frame, label = lens_and_camera(frame, label, rng, faults_p)
    if wide:
        frame, label = letterbox_into(frame, label, out_size, out_size, pad_value)
    return frame, label, mode
