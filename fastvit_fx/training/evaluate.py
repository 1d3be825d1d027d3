"""Evaluate a Segmenter on a labelled split, through the same path the app uses."""
from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

from ..metrics import boundary_f, iou
from .augment import IGNORE, mask_bbox
from .data import Item, load_pair


def _scene(background: np.ndarray | None, frame_w: int, frame_h: int) -> np.ndarray:
    """The frame's backdrop: the scene stretched to the frame, or plain grey without one."""
    if background is None:
        return np.full((frame_h, frame_w, 3), 90, np.uint8)
    return cv2.resize(background, (frame_w, frame_h), interpolation=cv2.INTER_LINEAR)


def place_in_wide_frame(img: np.ndarray, mask: np.ndarray, background: np.ndarray | None,
                        frame_w: int = 1280, frame_h: int = 720):
    """Put a photo into a 16:9 webcam-sized frame (on a scene, centred) as the app would see it."""
    s = min(frame_h / img.shape[0], frame_w / img.shape[1])
    nh, nw = round(img.shape[0] * s), round(img.shape[1] * s)
    canvas = _scene(background, frame_w, frame_h)
    label = np.zeros((frame_h, frame_w), np.uint8)
    y0, x0 = (frame_h - nh) // 2, (frame_w - nw) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    label[y0:y0 + nh, x0:x0 + nw] = cv2.resize(mask, (nw, nh), interpolation=cv2.INTER_NEAREST)
    return canvas, label


def paste_small_in_wide_frame(img: np.ndarray, mask: np.ndarray, background: np.ndarray | None,
                              height_frac: float, rng: np.random.Generator,
                              frame_w: int = 1280, frame_h: int = 720):
    """Cut the labelled person out and paste them, `height_frac` of the frame tall, at a random place
    in a 16:9 frame on a scene: someone across the room. Only the person moves, so the photo's own
    border gives nothing away."""
    canvas = _scene(background, frame_w, frame_h)
    label = np.zeros((frame_h, frame_w), np.uint8)
    _paste_cutout(canvas, label, img, mask, height_frac, rng)
    return canvas, label


def paste_group_in_wide_frame(people: list[tuple[np.ndarray, np.ndarray]], background: np.ndarray | None,
                              rng: np.random.Generator, heights: tuple[float, float] = (0.05, 0.15),
                              frame_w: int = 1280, frame_h: int = 720):
    """Several people cut out and pasted small on one scene, standing on its lower part: a group in a
    street photo. Each is `heights` (a range, fractions of the frame's height) tall, drawn per person;
    later ones stand in front of earlier ones, and the label is everyone's pixels."""
    canvas = _scene(background, frame_w, frame_h)
    label = np.zeros((frame_h, frame_w), np.uint8)
    for img, mask in people:
        _paste_cutout(canvas, label, img, mask, float(rng.uniform(*heights)), rng, feet_from=0.45)
    return canvas, label


def _paste_cutout(canvas: np.ndarray, label: np.ndarray, img: np.ndarray, mask: np.ndarray, height_frac: float,
                  rng: np.random.Generator, feet_from: float | None = None) -> None:
    """Paste the labelled person of (img, mask), height_frac of the canvas tall, at a random place (in
    place). feet_from: their lowest pixel lands below this fraction of the canvas's height (people
    standing on the ground); None: anywhere."""
    frame_h, frame_w = label.shape
    box = mask_bbox(mask)
    if box is None:
        return
    x0, y0, x1, y1 = box
    s = frame_h * height_frac / (y1 - y0)
    person = cv2.resize(img[y0:y1, x0:x1], None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    cut = cv2.resize(mask[y0:y1, x0:x1], (person.shape[1], person.shape[0]), interpolation=cv2.INTER_NEAREST)
    ph, pw = min(person.shape[0], frame_h), min(person.shape[1], frame_w)
    person, cut = person[:ph, :pw], cut[:ph, :pw]
    low = 0 if feet_from is None else min(frame_h - ph, max(0, int(feet_from * frame_h) - ph))
    py, px = int(rng.integers(low, frame_h - ph + 1)), int(rng.integers(0, frame_w - pw + 1))
    inside = (cut > 127) & (cut != IGNORE)  # an unlabelled region is not a person to paste
    canvas[py:py + ph, px:px + pw][inside] = person[inside]
    label[py:py + ph, px:px + pw][inside] = 255


ROTATIONS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def rotate_pair(img: np.ndarray, mask: np.ndarray, degrees: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo and its truth turned clockwise by a multiple of 90 degrees: the person lying down
    (90, 270) or upside down (180), at the size they were photographed (how far the model relies
    on people standing upright)."""
    if degrees % 360 == 0:
        return img, mask
    if degrees % 360 not in ROTATIONS:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {degrees}")
    code = ROTATIONS[degrees % 360]
    return cv2.rotate(img, code), cv2.rotate(mask, code)


def score_mask(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(IoU, boundary F) of a boolean prediction against an 8-bit truth; pixels the truth marks
    IGNORE are left out of both (for the boundary, the prediction stands in for the truth there)."""
    gt = truth > 127
    unlabelled = truth == IGNORE
    if not unlabelled.any():
        return iou(pred, gt), boundary_f(pred, gt)
    labelled = ~unlabelled
    return iou(pred[labelled], gt[labelled]), boundary_f(pred, np.where(unlabelled, pred, gt))


def pixel_counts(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(true, false, missed) person pixels of a boolean prediction over the truth's labelled pixels:
    pooled over a source they say where its errors are (a person missed, or the street painted)
    where a per-image mean cannot."""
    labelled = truth != IGNORE
    gt = truth > 127
    return np.array([np.count_nonzero(pred & gt & labelled), np.count_nonzero(pred & ~gt & labelled),
                     np.count_nonzero(~pred & gt & labelled)], np.int64)


def pooled_pixels(counts: np.ndarray) -> dict[str, int]:
    """pixel_counts summed over images, named for a report: {"true", "false", "missed"}."""
    true, false, missed = (int(v) for v in counts)
    return {"true": true, "false": false, "missed": missed}


def evaluate(segmenter, items: list[Item], wide: bool = False,
             backgrounds: list[np.ndarray] | None = None, keep_worst: int = 0,
             paste_height: float | None = None, rotate: int = 0, sources: set[str] | None = None) -> dict:
    """Mean per-image person IoU ("mIoU"), boundary F and the pooled pixels (pixel_counts), per
    source, and mIoU and boundary F overall.

    keep_worst > 0 also returns the worst images as (iou, name, frame, truth, pred) for a report.
    paste_height: instead of the photo, the person cut out and pasted that fraction of a 1280x720
    frame's height tall (positions from a fixed seed, so runs compare).
    rotate: each photo and its truth turned clockwise by this many degrees first (rotate_pair).
    sources: score only these sources' images; every other image still takes its turn at the scenes
    and the pasting positions, so a source scores the same alone as among the rest.
    """
    rng = np.random.default_rng(0)
    per_source: dict[str, list[tuple[float, float]]] = defaultdict(list)
    pixels: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(3, np.int64))
    worst: list = []
    per_image: list[dict] = []
    for i, item in enumerate(items):
        skipped = sources is not None and item.source not in sources
        if skipped and not paste_height:
            continue
        img, truth = rotate_pair(*load_pair(item), rotate)
        bg = backgrounds[i % len(backgrounds)] if backgrounds else None
        if paste_height:
            img, truth = paste_small_in_wide_frame(img, truth, bg, paste_height, rng)
            if skipped:  # its draws are made, so the next image is pasted where it always is
                continue
        elif wide:
            img, truth = place_in_wide_frame(img, truth, bg)
        segmenter.reset()
        prob = segmenter(img)
        pred = prob > 0.5
        score, bf = score_mask(pred, truth)
        per_source[item.source].append((score, bf))
        pixels[item.source] += pixel_counts(pred, truth)
        per_image.append({"name": item.name, "source": item.source, "iou": float(score)})
        if keep_worst:
            worst.append((score, item.name, img, truth, (prob * 255).astype(np.uint8)))
            worst.sort(key=lambda w: w[0])
            del worst[keep_worst:]
    result: dict = {"sources": {}}
    all_scores = []
    for source, scores in sorted(per_source.items()):
        arr = np.array(scores)
        result["sources"][source] = {"n": len(arr), "miou": float(arr[:, 0].mean()),
                                     "boundary_f": float(arr[:, 1].mean()), "pixels": pooled_pixels(pixels[source])}
        all_scores.extend(scores)
    arr = np.array(all_scores) if all_scores else np.zeros((0, 2))
    result["miou"] = float(arr[:, 0].mean()) if len(arr) else float("nan")
    result["boundary_f"] = float(arr[:, 1].mean()) if len(arr) else float("nan")
    result["n"] = len(arr)
    result["per_image"] = per_image
    if keep_worst:
        result["worst"] = worst
    return result


# photos of one standing person, every pixel of them labelled: what a pasted group is made of
STANDING_SOURCES = ("clothing-co-parsing",)


def evaluate_pasted_groups(segmenter, items: list[Item], backgrounds: list[np.ndarray] | None, people: int = 5,
                           heights: tuple[float, float] = (0.05, 0.15), seed: int = 0) -> dict:
    """Groups of small people on scenes (paste_group_in_wide_frame): one 1280x720 frame per item, that
    item's person and `people` - 1 others drawn from `items`, each 5-15% of the frame tall by default,
    as in street photos of several people. Pass items with one labelled person each (the full-body
    photos). Returns the mean IoU of the frames ("miou") and each frame's ("per_image", by the first
    person's item) and the person pixels pooled over the frames ("pixels": found, painted where no person
    is, missed; pixel_counts), which show false paint that a per-frame IoU of small people hides.
    Seeded: every candidate sees the same frames."""
    if len(items) < people:
        raise ValueError(f"a group of {people} needs at least {people} items, got {len(items)}")
    rng = np.random.default_rng(seed)
    per_image = []
    pixels = np.zeros(3, np.int64)
    for i, item in enumerate(items):
        others = [j for j in rng.permutation(len(items)) if j != i][: people - 1]
        group = [load_pair(item)] + [load_pair(items[j]) for j in others]
        bg = backgrounds[i % len(backgrounds)] if backgrounds else None
        frame, truth = paste_group_in_wide_frame(group, bg, rng, heights)
        segmenter.reset()
        pred = segmenter(frame) > 0.5
        score, _ = score_mask(pred, truth)
        pixels += pixel_counts(pred, truth)
        per_image.append({"name": item.name, "source": item.source, "iou": float(score)})
    return {"miou": float(np.mean([im["iou"] for im in per_image])), "n": len(per_image), "per_image": per_image,
            "pixels": pooled_pixels(pixels)}


def paired_difference(base: list[float], other: list[float], draws: int = 4000, seed: int = 0) -> dict:
    """How much `other` beats `base` on the same images: the mean per-image IoU difference and its 95%
    interval by a paired bootstrap over images. On 93 full-body photos one image moving 0.1 moves the
    mean 0.001, so a floor drawn tighter than this interval is drawn inside the noise."""
    diff = np.asarray(other, np.float64) - np.asarray(base, np.float64)
    if diff.size == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan")}
    picks = np.random.default_rng(seed).integers(0, diff.size, size=(draws, diff.size))
    means = diff[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"mean": float(diff.mean()), "low": float(low), "high": float(high)}


VIDEO_SOURCES = ("sbi2015-indoor", "davis2016-poses", "camvid-street", "cdnet-pedestrians")


def flicker(preds: list[np.ndarray], truths: list[np.ndarray]) -> float:
    """Pixels of the predicted mask that flip between consecutive frames where the truth does not,
    per frame pair, over the mean person area of the truth (lower is better; 0 for a still mask).
    Pixels the truth leaves unlabelled in either frame are not counted."""
    if len(preds) < 2:
        return float("nan")
    flips = []
    for (p0, t0), (p1, t1) in zip(zip(preds, truths), zip(preds[1:], truths[1:])):
        labelled = (t0 != IGNORE) & (t1 != IGNORE)
        steady = ((t0 > 127) == (t1 > 127)) & labelled
        flips.append(float(((p0 != p1) & steady).sum()))
    area = float(np.mean([(t > 127).sum() for t in truths]))
    return float(np.mean(flips) / max(area, 1.0))


def evaluate_video(segmenter, items: list[Item]) -> dict:
    """Each video sequence in frame order through one smoothing Segmenter, as the app runs a camera
    (reset at the start of each sequence): per-sequence mIoU and flicker, and their means.

    The segmenter must be built for video (smooth=True: temporal smoothing and zoom tracking). Its
    large-size time gate is held open while scoring: the scores measure the masks, not how busy this
    machine was (the gate's own behaviour is timed by the pipeline bench)."""
    gate = getattr(segmenter, "large_size_gate", None)
    if gate is not None:
        segmenter.large_size_gate = None
    try:
        return _evaluate_video(segmenter, items)
    finally:
        if gate is not None:
            segmenter.large_size_gate = gate


def _evaluate_video(segmenter, items: list[Item]) -> dict:
    from .data import sequence_name

    sequences: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.source in VIDEO_SOURCES:
            sequences[sequence_name(item.name)].append(item)
    result: dict = {"sequences": {}}
    for name, seq in sorted(sequences.items()):
        seq.sort(key=lambda it: it.name)
        segmenter.reset()
        preds, truths, scores = [], [], []
        for item in seq:
            img, truth = load_pair(item)
            pred = segmenter(img) > 0.5
            preds.append(pred)
            truths.append(truth)
            scores.append(score_mask(pred, truth)[0])
        result["sequences"][name] = {"source": seq[0].source, "n": len(seq), "miou": float(np.mean(scores)),
                                     "flicker": flicker(preds, truths)}
    rows = list(result["sequences"].values())
    result["miou"] = float(np.mean([r["miou"] for r in rows])) if rows else float("nan")
    result["flicker"] = float(np.nanmean([r["flicker"] for r in rows])) if rows else float("nan")
    result["flicker_by_pairs"] = flicker_by_pairs(rows)
    return result


def flicker_by_pairs(rows: list[dict]) -> float:
    """Per-sequence flicker weighted by each sequence's frame pairs. The plain mean over sequences lets
    a 2-frame clip count as much as a 55-frame one; this asks how often a pair of frames flickers."""
    weighted = [(r["flicker"], r["n"] - 1) for r in rows if r["n"] > 1 and not np.isnan(r["flicker"])]
    pairs = sum(n for _, n in weighted)
    return float(sum(f * n for f, n in weighted) / pairs) if pairs else float("nan")
