"""Runtimes that load files behind one small interface (see base.Backend). Nothing here builds.

Backends:
- ``torch``: the fused network in PyTorch from a .safetensors file (CUDA or MPS in fp16 where
  present, else CPU, channels_last). The only backend that imports torch.
- ``onnx``: ONNX Runtime on the CPU, an fp32 .onnx export (the `[onnx]` extra).
- ``onnx-int8``: the same with statically quantised dense convolutions (an .int8.onnx export).
- ``coreml``: Core ML on macOS (CPU, GPU and Neural Engine), an fp16 .mlpackage, one fixed input shape.
- ``auto``: Core ML on macOS; PyTorch on CUDA or MPS; otherwise the fastest CPU runtime that holds
  accuracy: ONNX Runtime int8 when installed (see probe.CPU_DEFAULT), then fp32 ONNX, else PyTorch.

Exports are found here (`load_current_export`: next to the weights, then in the user cache, current
when their metadata records the weights' SHA-256) and built by fastvit_fx.export; the one helper
that ties the two together is fastvit_fx.segment.open_segmenter.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..export.cache import export_candidates, is_current
from .base import Backend, BackendError
from .probe import CPU_DEFAULT, auto_candidates, available_backends, installed, torch_accelerator_hint

BACKENDS = ("auto", "torch", "coreml", "onnx", "onnx-int8")
CONCRETE = BACKENDS[1:]
EXPORTED = ("onnx", "onnx-int8", "coreml")  # backends that run an export file, not the weights

log = logging.getLogger("fastvit_fx.backends")


def load_backend(path: str | Path, kind: str, device: str | None = None, threads: int | None = None) -> Backend:
    """Load one file for one runtime: a .safetensors file for 'torch', an .onnx export for 'onnx' and
    'onnx-int8', an .mlpackage for 'coreml'. Problems are one-line BackendError/WeightsError."""
    path = Path(path)
    if kind == "torch":
        # the only import of torch on this side, and only when torch is asked for
        from .torch_backend import load_torch_backend

        return load_torch_backend(path, device=device)
    if kind in ("onnx", "onnx-int8"):
        if device is not None and device.split(":")[0] != "cpu":
            raise BackendError(f"backend {kind!r} runs on the CPU only, not on {device}")
        from .onnx_backend import OnnxBackend

        return OnnxBackend(path, threads=threads)
    if kind == "coreml":
        from .coreml_backend import CoreMLBackend

        return CoreMLBackend(path)
    raise BackendError(f"backend {kind!r}: unknown; choose one of {', '.join(BACKENDS)}")


def load_current_export(weights: Path, kind: str, size: int, digest: str,
                        input_hw: tuple[int, int] | None = None, threads: int | None = None) -> Backend | None:
    """The backend for an up-to-date export of `weights` (beside them first, then in the user cache),
    or None when there is none. A stale or unreadable file is skipped with a note in the log."""
    for path in export_candidates(weights, kind, size, digest, input_hw):
        try:
            backend = load_backend(path, kind, threads=threads)
        except BackendError as exc:
            log.info("ignoring %s: %s", path, exc)
            continue
        if is_current(getattr(backend, "metadata", {}), digest):
            return backend
        log.info("ignoring %s: exported from other weights or an older fastvit-fx", path)
    return None


__all__ = ["Backend", "BackendError", "BACKENDS", "CONCRETE", "CPU_DEFAULT", "EXPORTED", "auto_candidates",
           "available_backends", "installed", "load_backend", "load_current_export", "torch_accelerator_hint"]
