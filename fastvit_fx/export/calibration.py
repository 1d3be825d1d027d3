"""Frames for int8 calibration: the shipped set, the demo scene, or a folder of the user's images,
placed and letterboxed exactly as the Segmenter will see them."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import numpy as np

from ..backends.base import BackendError

log = logging.getLogger("fastvit_fx.export")


def calibration_inputs(images: Iterable[np.ndarray], config, size: int,
                       frame_hw: tuple[int, int] | None = (720, 1280)) -> list[np.ndarray]:
    """Network inputs for int8 calibration: each BGR image placed as the app would see it.

    frame_hw: put each image into a webcam-sized frame first (centred on grey), as evaluation does;
    None uses the images as they are. Inputs are letterboxed at `size` exactly like the Segmenter.
    """
    import cv2

    from ..segment.letterbox import letterbox_shape, to_network_input

    out = []
    for img in images:
        if frame_hw is not None:
            fh, fw = frame_hw
            s = min(fh / img.shape[0], fw / img.shape[1])
            nh, nw = max(1, round(img.shape[0] * s)), max(1, round(img.shape[1] * s))
            canvas = np.full((fh, fw, 3), 90, np.uint8)
            y0, x0 = (fh - nh) // 2, (fw - nw) // 2
            canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
            img = canvas
        box = letterbox_shape(img.shape[0], img.shape[1], size)
        out.append(to_network_input(img, box, config.mean, config.std))
    return out


def shipped_calibration_dir() -> Path:
    """models/calibration: 24 webcam-like frames (people at close, desk and small framings in rooms
    and streets, redistributable sources only), made by scripts/make_calibration_set.py."""
    from ..resources import models_dir

    return models_dir() / "calibration"


def builtin_calibration_frames(count: int = 32, seed: int = 0) -> list[np.ndarray]:
    """Calibration frames with no data at hand: the shipped set (see shipped_calibration_dir), up to
    `count` of them; where it is missing, the built-in demo scene (fastvit_fx/io/demo.py) at many
    poses, each with a random exposure, contrast, colour cast, noise level and mirror."""
    import cv2

    shipped = shipped_calibration_dir()
    if shipped.is_dir() and any(shipped.glob("*.jpg")):
        return read_calibration_images(shipped, limit=count)

    try:
        from ..io.demo import DemoScene
    except ImportError:
        raise BackendError("int8 calibration: the built-in demo scene is missing; pass --calib FOLDER") from None
    scene = DemoScene(1280, 720)
    if not scene.from_files:
        log.warning(
            "int8 calibration: the demo scene's photos are missing, calibrating on its drawn figure; "
            "`fastvit-fx export onnx --int8 --calib FOLDER` calibrates on real frames")
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        frame = scene.frame(0.73 * i + float(rng.uniform(0, 0.5))).astype(np.float32) / 255
        frame = frame ** float(rng.uniform(0.6, 1.7))  # exposure / gamma
        frame = (frame - 0.5) * float(rng.uniform(0.7, 1.3)) + 0.5 + float(rng.uniform(-0.12, 0.12))
        frame = frame * rng.uniform(0.85, 1.15, 3).astype(np.float32)  # colour cast / white balance
        frame = frame + rng.normal(0, float(rng.uniform(0, 0.03)), frame.shape).astype(np.float32)
        frame = np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8)
        if i % 2:
            frame = cv2.flip(frame, 1)
        frames.append(frame)
    return frames


def read_calibration_images(folder: str | Path, limit: int = 64) -> list[np.ndarray]:
    """Up to `limit` images (sorted by name, evenly spaced) from a folder, as BGR arrays."""
    import cv2

    folder = Path(folder)
    if not folder.is_dir():
        raise BackendError(f"calibration folder {folder}: no such folder")
    suffixes = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes)
    if not paths:
        raise BackendError(f"calibration folder {folder}: no images in it")
    if len(paths) > limit:
        step = len(paths) / limit
        paths = [paths[int(i * step)] for i in range(limit)]
    images = [img for img in (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths) if img is not None]
    if not images:
        raise BackendError(f"calibration folder {folder}: none of its images could be read")
    return images
