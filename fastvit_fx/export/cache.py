"""Where exports live and when one is current (torch-free: the runtime reads this on every start).

An export sits next to its weights (models/, written by `fastvit-fx export`) or in the user cache
(written on first use, see build.py), keyed by the SHA-256 of the weights. It is current when the
digest it records matches the weights file and it was written by this EXPORT_VERSION.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..resources import user_cache_dir
from .shapes import fixed_input_hw

# Bumped whenever the exported graph, its metadata or the int8 calibration change, so old cached
# files are not reused (4: int8 calibrates on the shipped frames in models/calibration, stem fp32).
EXPORT_VERSION = 4
KINDS = ("onnx", "onnx-int8", "coreml")


def weights_digest(path: str | Path) -> str:
    """SHA-256 of a weights file (hex); exports record it to detect stale files."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_name(weights: Path, kind: str, size: int, input_hw: tuple[int, int] | None = None) -> str:
    """File name of an export: fastvit_t8_person.onnx, fastvit_t8_person.int8.onnx,
    fastvit_t8_person-256x160.mlpackage (W x H)."""
    stem = Path(weights).name.removesuffix(".safetensors")
    if kind == "onnx":
        return f"{stem}.onnx"
    if kind == "onnx-int8":
        return f"{stem}.int8.onnx"
    if kind == "coreml":
        h, w = input_hw or fixed_input_hw(size)
        return f"{stem}-{w}x{h}.mlpackage"
    raise ValueError(f"unknown export kind {kind!r}; choose one of {', '.join(KINDS)}")


def cache_path(weights: Path, kind: str, size: int, digest: str,
               input_hw: tuple[int, int] | None = None) -> Path:
    """Where the runtime keeps its own export: the user cache, keyed by the weights' digest."""
    return (user_cache_dir() / "exports" / f"v{EXPORT_VERSION}-{digest[:16]}"
            / export_name(weights, kind, size, input_hw))


def export_candidates(weights: Path, kind: str, size: int, digest: str,
                      input_hw: tuple[int, int] | None = None) -> list[Path]:
    """Existing files that may be a current export of `weights`, best first: beside the weights,
    then in the cache. Whether one is current is read from its metadata (`is_current`)."""
    weights = Path(weights)
    paths = [weights.parent / export_name(weights, kind, size, input_hw),
             cache_path(weights, kind, size, digest, input_hw)]
    return [p for p in paths if p.exists()]


def is_current(metadata: dict[str, str], digest: str) -> bool:
    """True when an export's metadata says it came from these weights and this exporter."""
    return metadata.get("weights_sha256") == digest and metadata.get("export_version") == str(EXPORT_VERSION)
