"""The one place the runtime builds a missing export (fastvit_fx.segment.open calls it).

The runtime reaches torch and timm only through here (onnx.py, coreml.py and network.py import them
inside the functions that build), and only when an export has to be built: a cached or shipped export
never reaches this module. Each build is announced once per process on the
fastvit_fx.export logger, after the weights have loaded (broken weights fail without it).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..backends.base import BackendError
from .cache import cache_path, weights_digest
from .shapes import fixed_input_hw

log = logging.getLogger("fastvit_fx.export")
_announced: set[Path] = set()
_lock = threading.Lock()  # one build at a time in a process (two windows, retries of a loader)


def announce_once(target: Path, message: str, *args) -> None:
    """Log `message` at WARNING (a one-time wait the user should know about) the first time
    `target` is built in this process; later builds of the same file stay silent."""
    if target in _announced:
        return
    _announced.add(target)
    log.warning(message, *args)


def build_export(weights: Path, kind: str, size: int, digest: str | None = None) -> Path:
    """Export `weights` for a runtime into the user cache and return the file.

    kind: 'onnx' (fp32), 'onnx-int8' (the fp32 export, then quantised on the shipped calibration
    frames) or 'coreml' (fp16, the fixed 16:9 input shape at `size`).
    """
    weights = Path(weights)
    digest = digest or weights_digest(weights)
    with _lock:
        if kind == "onnx":
            return _build_onnx(weights, size, digest)
        if kind == "onnx-int8":
            return _build_int8(weights, size, digest)
        if kind == "coreml":
            return _build_coreml(weights, size, digest)
    raise BackendError(f"export kind {kind!r}: unknown; choose onnx, onnx-int8 or coreml")


def _build_onnx(weights: Path, size: int, digest: str) -> Path:
    from .network import load_for_export
    from .onnx import export_onnx

    target = cache_path(weights, "onnx", size, digest)
    loaded = load_for_export(weights)  # a WeightsError here: nothing announced, nothing written
    announce_once(target, "exporting %s to ONNX once, into %s", weights.name, target)
    return export_onnx(weights, target, size=size, loaded=loaded)


def _build_int8(weights: Path, size: int, digest: str) -> Path:
    from ..model.header import read_config
    from .calibration import builtin_calibration_frames, calibration_inputs
    from .int8 import quantize_onnx_int8

    target = cache_path(weights, "onnx-int8", size, digest)
    fp32 = _current_fp32(weights, size, digest) or _build_onnx(weights, size, digest)
    announce_once(target, "quantising %s to int8 once (calibrated on the shipped webcam-like frames), into %s",
                  weights.name, target)
    inputs = calibration_inputs(builtin_calibration_frames(), read_config(weights), size, frame_hw=None)
    return quantize_onnx_int8(fp32, target, inputs)


def _current_fp32(weights: Path, size: int, digest: str) -> Path | None:
    """An fp32 export of these weights to quantise, where one is already built (beside or cached)."""
    from .cache import export_candidates, is_current
    from .metadata import onnx_metadata

    for path in export_candidates(weights, "onnx", size, digest):
        try:
            if is_current(onnx_metadata(path), digest):
                return path
        except Exception as exc:  # unreadable: build a fresh one instead
            log.info("ignoring %s: %s", path, exc)
    return None


def _build_coreml(weights: Path, size: int, digest: str) -> Path:
    import sys

    from ..backends.coreml_backend import coreml_runs_here
    from .coreml import export_coreml
    from .network import load_for_export

    if not coreml_runs_here():
        raise BackendError(f"backend 'coreml': Core ML runs only on macOS (this is {sys.platform}); "
                           f"`fastvit-fx export coreml` still converts here")
    hw = fixed_input_hw(size)
    target = cache_path(weights, "coreml", size, digest, hw)
    loaded = load_for_export(weights)
    announce_once(target, "converting %s to Core ML once (%dx%d), into %s; this takes a minute",
                  weights.name, hw[1], hw[0], target)
    return export_coreml(weights, target, size=size, input_hw=hw, loaded=loaded)
