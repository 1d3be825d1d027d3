"""Runtimes behind one interface (see base.Backend); `create_backend` picks and builds one."""
from __future__ import annotations

from pathlib import Path

from .base import Backend, BackendError

BACKENDS = ("auto", "torch", "coreml", "onnx")


def create_backend(name: str, weights: Path, size: int, device: str | None = None) -> Backend:
    """Build the named backend for a weights file at a given input size ('auto' picks the best)."""
    if name not in BACKENDS:
        raise BackendError(f"backend {name!r}: unknown; choose one of {', '.join(BACKENDS)}")
    if name in ("auto", "torch"):
        from ..model import load_model
        from .torch_backend import TorchBackend

        return TorchBackend(load_model(weights, fuse=True), device=device)
    raise BackendError(f"backend {name!r}: not available yet")


__all__ = ["Backend", "BackendError", "BACKENDS", "create_backend"]
