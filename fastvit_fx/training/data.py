"""Datasets laid out like shared/data/person-seg: images/, masks/, manifest.csv with a split column."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import make_sample


@dataclass
class Item:
    name: str
    image: Path
    mask: Path
    source: str
    split: str


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
                              row.get("source", "unknown"), row.get("split", "")))
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
        mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    return img, mask


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


class AugmentedPeople(Dataset):
    """Each index yields a freshly augmented webcam-like frame (new randomness every epoch)."""

    def __init__(self, items: list[Item], backgrounds: list[np.ndarray], size: int,
                 mean, std, seed: int = 0, max_side: int = 400,
                 framings: dict[str, float] | None = None, faults_p: float = 1.0) -> None:
        self.pairs = [load_pair(it, max_side) for it in items]
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
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        img, mask = self.pairs[index]
        frame, label = make_sample(rng, img, mask, self.backgrounds, self.pairs, self.size,
                                   scene_people=self.scene_people, framings=self.framings,
                                   faults_p=self.faults_p)
        x = frame[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0
        x = (x - self.mean) / self.std
        y = (label.astype(np.float32) / 255.0)[None]
        return torch.from_numpy(x), torch.from_numpy(y)
