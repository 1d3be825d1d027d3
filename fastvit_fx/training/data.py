"""Datasets laid out like shared/data/person-seg: images/, masks/, manifest.csv with a split column."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import IGNORE, make_framed_sample, person_free_crop, turn_hue, zoomed_out_scene
from .flash_at_night import flash_at_night

# Each source's share of the samples drawn in an epoch. The failures in the wild are in the scene
# sources (people by furniture, far away, in groups, in unusual poses), so they get about half the
# samples though they are a third of the pairs; the portraits keep the largest single share because
# the webcam portrait is the app's main use and must not regress; DAVIS's 141 poses are repeated
# (each about 4 times an epoch, each time differently augmented) rather than left at 4% of samples.
SOURCE_SHARES = {
    "shen2016-portraits": 0.24,
    "clothing-co-parsing": 0.16,
    "cdnet-pedestrians": 0.03,
    "sbi2015-indoor": 0.22,
    "davis2016-poses": 0.15,
    "camvid-street": 0.20,
}
# sources whose one fully labelled person may be cut out and pasted in a new pose
POSE_SOURCES = ("davis2016-poses",)
# sources whose pairs may be pasted as further people (fully labelled, one or few people, no IGNORE)
CUTOUT_SOURCES = ("shen2016-portraits", "clothing-co-parsing", "davis2016-poses")


@dataclass
class Item:
    name: str
    image: Path
    mask: Path
    source: str
    split: str
    style: str = ""


def read_manifest(root: str | Path, split: str | None = None) -> list[Item]:
    root = Path(root)
    manifest = root / "manifest.csv"
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest}: no manifest.csv (expected columns image,mask,source,split)")
    items = []
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f):
            if split is not None and row.get("split") != split:
                continue
            items.append(Item(Path(row["image"]).stem, root / row["image"], root / row["mask"],
                              row.get("source", "unknown"), row.get("split", ""), row.get("style", "")))
    return items


def load_pair(item: Item, max_side: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    img = cv2.imread(str(item.image), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(item.mask), cv2.IMREAD_GRAYSCALE)
    if img is None or mask is None:
        raise ValueError(f"cannot read {item.image if img is None else item.mask}")
    if mask.shape != img.shape[:2]:
        mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
    if max_side and max(img.shape[:2]) > max_side:
        img = fit_longest_side(img, max_side)
        # nearest keeps IGNORE a region of its own rather than a blend of person and background
        marks_ignore = bool((mask == IGNORE).any())
        interp = cv2.INTER_NEAREST if marks_ignore else cv2.INTER_LINEAR
        mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=interp)
        if not marks_ignore:
            # a blend of the edge that lands on 128 is half a person, not "not labelled": read as
            # IGNORE it would mute the whole photo's soft edge in the loss (valid_map)
            mask[mask == IGNORE] = IGNORE + 1
    return img, mask


def sequence_name(name: str) -> str:
    """The video sequence a frame belongs to: its name without the trailing frame number."""
    return name.rstrip("0123456789").rstrip("-_") or name


def source_sample_weights(items: list[Item], shares: dict[str, float] | None = None) -> list[float]:
    """Per-item sampling weights so each source gets its share of an epoch whatever its size.
    Sources not in `shares` get the mean share."""
    shares = shares or SOURCE_SHARES
    counts: dict[str, int] = {}
    for it in items:
        counts[it.source] = counts.get(it.source, 0) + 1
    fallback = sum(shares.values()) / max(1, len(shares))
    return [shares.get(it.source, fallback) / counts[it.source] for it in items]


def _source_values(text: str | None, what: str) -> dict[str, float]:
    """'a=0.3,b=2' -> {'a': 0.3, 'b': 2.0}; a part that is not source=number is an error naming it."""
    values: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{part!r} is not source={what}") from None
    return values


def parse_shares(text: str | None) -> dict[str, float]:
    """'sbi2015-indoor=0.3,camvid-street=0.2' -> SOURCE_SHARES with those entries replaced."""
    shares = dict(SOURCE_SHARES)
    shares.update(_source_values(text, "share"))
    if min(shares.values()) < 0 or sum(shares.values()) <= 0:
        raise ValueError(f"{text!r} needs non-negative shares with a positive sum")
    return shares


def valid_map(label: np.ndarray, had_ignore: bool) -> np.ndarray:
    """1 where the label counts, 0 where the source did not label (IGNORE, and the blend of IGNORE
    with its neighbours that resizing makes). Sources without IGNORE are valid everywhere: their
    soft resized edges are real targets."""
    if not had_ignore:
        return np.ones(label.shape, np.float32)
    return (np.abs(label.astype(np.int16) - IGNORE) > 40).astype(np.float32)


def marks_unlabelled_region(mask: np.ndarray) -> bool:
    """Whether the mask marks a region as not labelled (some IGNORE pixel with IGNORE all around it),
    not only the odd edge pixel where a resize's blend of 0 and 255 lands on 128."""
    return bool(cv2.erode((mask == IGNORE).astype(np.uint8), np.ones((3, 3), np.uint8)).any())


def fit_longest_side(img: np.ndarray, max_side: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    """Shrink so the longest side is at most max_side (never enlarge): how training reads images."""
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img
    s = max_side / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=interpolation)


def load_backgrounds(folder: str | Path | None, max_side: int = 480) -> list[np.ndarray]:
    if folder is None or not Path(folder).is_dir():
        return []
    out = []
    for p in [q for ext in ("jpg", "png", "webp") for q in sorted(Path(folder).glob(f"*.{ext}"))]:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            continue
        out.append(fit_longest_side(img, max_side))
    return out


# the sources a teacher is matched on by default (--teacher): the ones the shipped weights do well
# and a run on the scene sources gives up
TEACH_SOURCES = ("shen2016-portraits", "clothing-co-parsing")


def parse_sources(text: str | None, known: set[str] | None = None) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'); with `known`, a name not among them is an error naming it."""
    names = tuple(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = [n for n in names if known is not None and n not in known]
    if unknown:
        raise ValueError(f"unknown source {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return names


def parse_loss_weights(text: str | None, known: set[str] | None = None) -> dict[str, float]:
    """'camvid-street=3,sbi2015-indoor=1.5' -> {source: weight}; sources not named weigh 1. With
    `known`, a name not among them is an error naming it."""
    weights = _source_values(text, "weight")
    bad = [f"{name}={w:g}" for name, w in weights.items() if not w >= 0]
    if bad:
        raise ValueError(f"{bad[0]!r}: a loss weight is a number >= 0")
    parse_sources(",".join(weights), known)  # names an unknown source
    return weights


# teach value of a photo sample whose label leaves some of it unlabelled (IGNORE: people the photo's
# convention leaves out, such as the full-body set's bystanders): the teacher learned that convention,
# so it is matched only where the label counts. A scene source's unlabelled pixels keep the teacher
# (teach 1.0): there it is what fills the label's gaps.
TAUGHT_WHERE_LABELLED = 2.0


class AugmentedPeople(Dataset):
    """Each index yields a freshly augmented webcam-like frame (new randomness every epoch):
    (image, label, valid map, teach, loss weight): teach 1.0 for samples of `teach_sources` (a
    teacher is matched on them; TAUGHT_WHERE_LABELLED for a photo that marks a region unlabelled),
    else 0.0; loss weight from `loss_weights` by source (1.0 where not named), what the sample's own
    segmentation loss is multiplied by.

    scene_scales ({'out': p, 'negative': p}, augment.parse_scene_scales): the share of scene-source
    samples drawn shrunk inside the sample or as a person-free close crop. Those samples are scales
    the teacher was not made for, so they learn from their own labels (teach 0.0, loss weight 1.0),
    whatever their source's settings; scene_scale_sources: the scene sources drawn so (None: every
    one). shrunk_background ({source: w}): in a shrunk frame of that source, every background
    pixel's valid weight is w, its people's stays 1 (the valid map carries it: BCE and Dice weigh by
    it; the Lovasz term keeps the pixels over its threshold, losses.lovasz_hinge). label_framings:
    the framings (augment.FRAMINGS keys) whose samples learn from their own labels alone (teach 0.0,
    loss weight 1.0) whatever their source's settings: the teacher sees a composed frame whole, and
    small pasted people in it are what it misses."""

    def __init__(self, items: list[Item], backgrounds: list[np.ndarray], size: int,
                 mean, std, seed: int = 0, max_side: int = 400,
                 framings: dict[str, float] | None = None, faults_p: float = 1.0,
                 teach_sources: tuple[str, ...] = (), loss_weights: dict[str, float] | None = None,
                 scene_scales: dict[str, float] | None = None,
                 scene_scale_sources: tuple[str, ...] | None = None,
                 shrunk_background: dict[str, float] | None = None,
                 colourful_clutter: float = 0.0, hue_turn: float = 0.0, outdoor_clutter: float = 0.0,
                 label_framings: tuple[str, ...] = (), flash_at_night: float = 0.0) -> None:
        self.items = items
        self.teach = [float(it.source in teach_sources) for it in items]
        self.loss_weight = [float((loss_weights or {}).get(it.source, 1.0)) for it in items]
        self.pairs = [load_pair(it, max_side) for it in items]
        self.has_ignore = [bool((m == IGNORE).any()) for _, m in self.pairs]
        self.marks_unlabelled = [marks_unlabelled_region(m) for _, m in self.pairs]
        self.cutouts = [p for p, it in zip(self.pairs, items) if it.source in CUTOUT_SOURCES] or list(self.pairs)
        # portraits label everyone in them, so their photos can be scenes for another person; with no
        # scene folder, every photo serves as the scene and its people stay labelled (used as a bare
        # background, a photo's person would be taught as background)
        self.backgrounds = backgrounds
        self.scene_people = ([p for p, it in zip(self.pairs, items) if it.source.startswith("shen")]
                             if backgrounds else list(self.pairs))
        self.size = size
        self.mean = np.array(mean, np.float32).reshape(3, 1, 1)
        self.std = np.array(std, np.float32).reshape(3, 1, 1)
        self.seed = seed
        self.framings, self.faults_p = framings, faults_p
        self.scene_scales = scene_scales or {}
        self.scene_scale_sources = scene_scale_sources
        self.shrunk_background = shrunk_background or {}
        self.colourful_clutter, self.hue_turn = colourful_clutter, hue_turn
        self.outdoor_clutter = outdoor_clutter
        self.label_framings = frozenset(label_framings)
        self.flash_at_night = flash_at_night
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        img, mask = self.pairs[index]
        item = self.items[index]
        teach, loss_weight = self.teach[index], self.loss_weight[index]
        other_scales = self.scene_scales and (self.scene_scale_sources is None
                                              or item.source in self.scene_scale_sources)
        drawn = self._scene_at_other_scale(index) if item.style == "scene" and other_scales else None
        background_weight = 1.0
        if drawn is not None:
            (frame, label), shrunk = drawn
            teach, loss_weight = 0.0, 1.0
            if shrunk:
                background_weight = self.shrunk_background.get(item.source, 1.0)
        else:
            frame, label, framing = make_framed_sample(
                rng, img, mask, self.backgrounds, self.cutouts, self.size,
                scene_people=self.scene_people, framings=self.framings, faults_p=self.faults_p,
                scene=item.style == "scene", pose_cutout=item.source in POSE_SOURCES,
                colourful_clutter=self.colourful_clutter, outdoor_clutter=self.outdoor_clutter)
            if framing in self.label_framings:
                teach, loss_weight = 0.0, 1.0
        if self.hue_turn > 0:  # its own random stream: the other draws stay as they were without it
            hue_rng = np.random.default_rng((self.seed, self.epoch, index, 2))
            if hue_rng.random() < self.hue_turn:
                frame = turn_hue(frame, hue_rng)
        if self.flash_at_night > 0:  # its own random stream, as the hue turn's
            night_rng = np.random.default_rng((self.seed, self.epoch, index, 3))
            if night_rng.random() < self.flash_at_night:
                frame = flash_at_night(frame, label, night_rng)
                teach, loss_weight = 0.0, 1.0  # the teacher misses the dark clothes these show
        if teach and item.style != "scene" and self.marks_unlabelled[index]:
            teach = TAUGHT_WHERE_LABELLED
        x = frame[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0
        x = (x - self.mean) / self.std
        valid = valid_map(label, self.has_ignore[index])
        if background_weight != 1.0:
            valid[label < 88] *= background_weight  # background: under IGNORE's band (valid_map's 128 +- 40)
        y = np.where(valid > 0, label.astype(np.float32) / 255.0, 0.0).astype(np.float32)
        return (torch.from_numpy(x), torch.from_numpy(y[None]), torch.from_numpy(valid[None]),
                torch.tensor(teach), torch.tensor(loss_weight))

    def _scene_at_other_scale(self, index: int):
        """((frame, label), shrunk): a scene frame shrunk (shrunk True) or a person-free close crop of
        it, with the chance `scene_scales` gives each, else None. Its own random stream: the other
        samples stay as they were without it."""
        rng = np.random.default_rng((self.seed, self.epoch, index, 1))
        img, mask = self.pairs[index]
        r = rng.random()
        if r < self.scene_scales.get("negative", 0.0):
            crop = person_free_crop(rng, img, mask, self.size, self.faults_p)
            return None if crop is None else (crop, False)
        if r < self.scene_scales.get("negative", 0.0) + self.scene_scales.get("out", 0.0):
            return zoomed_out_scene(rng, img, mask, self.size, self.backgrounds, faults_p=self.faults_p), True
        return None
