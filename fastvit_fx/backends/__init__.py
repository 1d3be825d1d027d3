"""Runtimes behind one interface (see base.Backend); `create_backend` picks and builds one.

Backends:
- ``torch``: the fused network in PyTorch (CUDA or MPS in fp16 where present, else CPU, channels_last).
- ``onnx``: ONNX Runtime on the CPU, fp32 (the `[onnx]` extra).
- ``onnx-int8``: the same with statically quantised dense convolutions (calibrated on the frames
  shipped in models/calibration, or on yours with `fastvit-fx export onnx --int8 --calib DIR`).
- ``coreml``: Core ML on macOS (CPU, GPU and Neural Engine), fp16, one fixed input shape.
- ``auto``: Core ML on macOS; PyTorch on CUDA or MPS; otherwise the fastest CPU runtime that holds
  accuracy: ONNX Runtime int8 when installed (see CPU_DEFAULT), then fp32 ONNX, else PyTorch.

``onnx`` and ``coreml`` find an up-to-date export next to the weights (models/, written by
`fastvit-fx export`) or in the user cache, and otherwise export once into the user cache (int8:
fp32 export, then quantisation, about 20 s for the T8 model). An export
is up to date when the SHA-256 of the weights it records matches the weights file.
"""
from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

from .base import Backend, BackendError

BACKENDS = ("auto", "torch", "coreml", "onnx", "onnx-int8")
CONCRETE = BACKENDS[1:]
# The CPU runtime `auto` prefers. int8 (dense convs, stem and classifier fp32, calibrated on the frames
# in models/calibration) ran in ~0.7x the fp32 time and, with the shipped weights, matched torch on the
# val split: 0.9042 vs 0.9042 on photos, 0.8573 vs 0.8581 in 1280x720 frames (docs/backends.md).
# Set to "onnx" to make fp32 the CPU default (int8 falls back to fp32 ONNX, then torch, on any failure).
CPU_DEFAULT = "onnx-int8"

log = logging.getLogger("fastvit_fx.backends")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _torch_accelerator() -> str | None:
    """'cuda' or 'mps' when PyTorch sees one, else None."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return None


def auto_candidates(device: str | None = None, platform: str | None = None,
                    accelerator: str | None | bool = False, have=_installed) -> list[str]:
    """Backends `auto` tries, best first (each later one is the fallback if the earlier fails).

    device: an explicit torch device ('cpu', 'cuda', 'mps'); a GPU device means torch, 'cpu' means
    the fastest CPU runtime. platform/accelerator/have are probes, overridable for tests
    (accelerator False = ask torch).
    """
    platform = sys.platform if platform is None else platform
    if device is not None and device.split(":")[0] in ("cuda", "mps"):
        return ["torch"]
    order: list[str] = []
    if device is None:
        if platform == "darwin" and have("coremltools"):
            order.append("coreml")
        accel = _torch_accelerator() if accelerator is False else accelerator
        if accel:
            order.append("torch")
    if have("onnxruntime") and have("onnx"):
        order += [CPU_DEFAULT, "onnx"] if CPU_DEFAULT != "onnx" else ["onnx"]
    if "torch" not in order:
        order.append("torch")
    return order


def available_backends() -> tuple[str, ...]:
    """Concrete backends that can run here (torch always), for `fastvit-fx bench`."""
    names = ["torch"]
    if have_onnx := (_installed("onnxruntime") and _installed("onnx")):
        names.append("onnx")
    if have_onnx:
        names.append("onnx-int8")  # quantised on first use, calibrated on the shipped frames
    if sys.platform == "darwin" and _installed("coremltools"):
        names.append("coreml")
    return tuple(names)


def find_export(weights: Path, kind: str, size: int, input_hw: tuple[int, int] | None = None,
                digest: str | None = None) -> Path | None:
    """An up-to-date export of `weights`: next to the weights first, then in the user cache."""
    from .export import EXPORT_VERSION, cache_path, export_name, weights_digest

    digest = digest or weights_digest(weights)
    for path in (weights.parent / export_name(weights, kind, size, input_hw),
                 cache_path(weights, kind, size, digest, input_hw)):
        if not path.exists():
            continue
        try:
            meta = _export_metadata(path, kind)
        except Exception as exc:  # unreadable: ignore it here; loading it directly reports why
            log.warning("ignoring %s: %s", path, exc)
            continue
        if meta.get("weights_sha256") == digest and meta.get("export_version") == str(EXPORT_VERSION):
            return path
        log.info("ignoring %s: exported from other weights or an older fastvit-fx", path)
    return None


def _export_metadata(path: Path, kind: str) -> dict[str, str]:
    from .export import coreml_metadata, onnx_metadata

    return coreml_metadata(path) if kind == "coreml" else onnx_metadata(path)


def _onnx_model(weights: Path, kind: str, size: int) -> Path:
    from .export import cache_path, export_onnx, weights_digest

    digest = weights_digest(weights)
    found = find_export(weights, kind, size, digest=digest)
    if found is not None:
        return found
    target = cache_path(weights, kind, size, digest)
    if kind == "onnx-int8":
        from ..model import load_weights
        from .export import builtin_calibration_frames, calibration_inputs, quantize_onnx_int8

        fp32 = _onnx_model(weights, "onnx", size)
        log.warning("quantising %s to int8 once (calibrated on the shipped webcam-like frames), into %s",
                    weights.name, target)
        config, _ = load_weights(weights)
        inputs = calibration_inputs(builtin_calibration_frames(), config, size, frame_hw=None)
        return quantize_onnx_int8(fp32, target, inputs)
    log.warning("exporting %s to ONNX once, into %s", weights.name, target)
    return export_onnx(weights, target, size=size)


def _coreml_model(weights: Path, size: int) -> Path:
    from .coreml_backend import coreml_runs_here
    from .export import cache_path, export_coreml, fixed_input_hw, weights_digest

    if not coreml_runs_here():
        raise BackendError(f"backend 'coreml': Core ML runs only on macOS (this is {sys.platform}); "
                           f"`fastvit-fx export coreml` still converts here")
    hw = fixed_input_hw(size)
    digest = weights_digest(weights)
    found = find_export(weights, "coreml", size, hw, digest=digest)
    if found is not None:
        return found
    target = cache_path(weights, "coreml", size, digest, hw)
    log.warning("converting %s to Core ML once (%dx%d), into %s; this takes a minute",
                weights.name, hw[1], hw[0], target)
    return export_coreml(weights, target, size=size, input_hw=hw)


def _build(name: str, weights: Path, size: int, device: str | None, threads: int | None) -> Backend:
    if name == "torch":
        from ..model import load_model
        from .torch_backend import TorchBackend

        return TorchBackend(load_model(weights, fuse=True), device=device)
    if name in ("onnx", "onnx-int8"):
        if device is not None and device.split(":")[0] != "cpu":
            raise BackendError(f"backend {name!r} runs on the CPU only, not on {device}")
        if not (_installed("onnxruntime") and _installed("onnx")):
            raise BackendError(f"backend {name!r} needs onnx and onnxruntime: pip install 'fastvit-fx[onnx]'")
        from .onnx_backend import OnnxBackend

        return OnnxBackend(_onnx_model(weights, name, size), threads=threads)
    if name == "coreml":
        from .coreml_backend import CoreMLBackend

        return CoreMLBackend(_coreml_model(weights, size))
    raise BackendError(f"backend {name!r}: unknown; choose one of {', '.join(BACKENDS)}")


def create_backend(name: str, weights: str | Path, size: int, device: str | None = None,
                   threads: int | None = None) -> Backend:
    """Build the named backend for a weights file at a given input size ('auto' picks the best).

    `weights` is a .safetensors file; an exported .onnx file or .mlpackage also works for the
    onnx / coreml backends (and for 'auto'), used as it is.
    """
    if name not in BACKENDS:
        raise BackendError(f"backend {name!r}: unknown; choose one of {', '.join(BACKENDS)}")
    weights = Path(weights)
    if weights.suffix == ".onnx" or weights.suffix == ".mlpackage":
        kind = "coreml" if weights.suffix == ".mlpackage" else "onnx"
        if name not in ("auto", kind, "onnx-int8" if kind == "onnx" else kind):
            raise BackendError(f"backend {name!r} cannot run {weights} (a {kind} export)")
        if kind == "onnx":
            from .onnx_backend import OnnxBackend

            return OnnxBackend(weights, threads=threads)
        from .coreml_backend import CoreMLBackend

        return CoreMLBackend(weights)
    if name != "auto":
        return _build(name, weights, size, device, threads)
    from ..model import WeightsError

    candidates = auto_candidates(device)
    errors = []
    for candidate in candidates:
        try:
            backend = _build(candidate, weights, size, device, threads)
        except WeightsError:
            raise  # the weights themselves are bad: no other runtime helps
        except Exception as exc:  # a runtime or exporter that fails here: fall back to the next
            if candidate == candidates[-1]:
                raise
            errors.append(str(exc))
            log.warning("auto: %s unavailable (%s); trying %s", candidate, exc,
                        candidates[candidates.index(candidate) + 1])
            continue
        return backend
    raise BackendError("auto: no backend could be built: " + "; ".join(errors))  # unreachable


__all__ = ["Backend", "BackendError", "BACKENDS", "auto_candidates", "available_backends", "create_backend",
           "find_export"]
