"""The one way to get a Segmenter from a weights file: pick a runtime, find (or build) its file,
load it, and wrap it with the model's config.

    seg = open_segmenter()                          # shipped weights, the best runtime here
    seg = open_segmenter(weights, backend="onnx", size=256, smooth=True)

With a current export beside the weights or in the cache, nothing here imports torch or timm: the
config comes from the weights file's header and the export is loaded as it is. Only where the
export is missing does it call the build step (fastvit_fx.export.build), which imports torch then.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from ..backends import (
    BACKENDS, Backend, BackendError, auto_candidates, installed, load_backend, load_current_export,
    torch_accelerator_hint,
)
from ..export.cache import weights_digest
from ..export.shapes import fixed_input_hw
from ..model.config import ModelConfig
from ..model.header import WeightsError, read_config
from ..resources import default_weights
from .segmenter import Segmenter

log = logging.getLogger("fastvit_fx.segment")


def open_segmenter(weights: str | Path | None = None, backend: str = "auto", size: int | None = None,
                   device: str | None = None, threads: int | None = None, refine: bool = True,
                   smooth: bool = False, zoom: bool = True) -> Segmenter:
    """A Segmenter for `weights` (default: the shipped file) on `backend` (see fastvit_fx.backends).

    size: the network input's longest side (default: the model's); device: a torch device, or
    'cpu' to mean the fastest CPU runtime under auto; threads: ONNX Runtime's intra-op threads.
    refine/smooth/zoom: the Segmenter's steps (smooth=True for video).
    """
    runtime, config = open_backend(weights, backend, size, device, threads)
    segmenter = Segmenter(runtime, config, size=size, refine=refine, smooth=smooth, zoom=zoom)
    segmenter.weights = Path(weights).expanduser() if weights is not None else default_weights()
    return segmenter


def open_backend(weights: str | Path | None = None, backend: str = "auto", size: int | None = None,
                 device: str | None = None, threads: int | None = None) -> tuple[Backend, ModelConfig]:
    """(loaded runtime, model config) for `weights`; what open_segmenter wraps.

    `weights` is a .safetensors file; an exported .onnx file or .mlpackage also works, its config
    read from the export's own metadata.
    """
    if backend not in BACKENDS:
        raise BackendError(f"backend {backend!r}: unknown; choose one of {', '.join(BACKENDS)}")
    weights = Path(weights).expanduser() if weights is not None else default_weights()
    if weights.suffix in (".onnx", ".mlpackage"):
        return _open_export_file(weights, backend, threads)
    if not weights.exists() and weights == default_weights():
        raise WeightsError(weights, "no trained weights shipped here; pass a weights file "
                           "or train with scripts/train.py")
    config = read_config(weights)  # torch-free; the tensors are checked where they are loaded
    size = int(size or config.input_size)
    if size < 32:
        raise ValueError(f"input size must be at least 32, got {size}")
    if backend != "auto":
        return _open_one(backend, weights, size, device, threads), config
    candidates = auto_candidates(device)
    for i, name in enumerate(candidates):
        # torch ahead of the CPU runtimes only because an accelerator seems present: insist on it,
        # so a wrong guess falls back instead of running torch on the CPU
        wanted = device or (torch_accelerator_hint() if name == "torch" and i < len(candidates) - 1 else None)
        try:
            return _open_one(name, weights, size, wanted, threads), config
        except WeightsError:
            raise  # the weights themselves are bad: no other runtime helps
        except Exception as exc:  # a runtime or build step that fails here: fall back to the next
            if i == len(candidates) - 1:
                raise
            log.warning("auto: %s unavailable (%s); trying %s", name, exc, candidates[i + 1])
    raise BackendError("auto: no backend to try")  # unreachable: candidates always end with torch


def _open_one(name: str, weights: Path, size: int, device: str | None, threads: int | None) -> Backend:
    if name == "torch":
        return load_backend(weights, "torch", device=device)
    if device is not None and device.split(":")[0] != "cpu":
        raise BackendError(f"backend {name!r} runs on the CPU only, not on {device}")
    if name in ("onnx", "onnx-int8") and not installed("onnxruntime"):
        raise BackendError(f"backend {name!r} needs onnxruntime: pip install 'fastvit-fx[onnx]'")
    if name == "coreml":
        from ..backends.coreml_backend import coreml_runs_here

        if not coreml_runs_here():
            import sys

            raise BackendError(f"backend 'coreml': Core ML runs only on macOS (this is {sys.platform}); "
                               f"`fastvit-fx export coreml` still converts here")
    input_hw = fixed_input_hw(size) if name == "coreml" else None
    digest = weights_digest(weights)
    found = load_current_export(weights, name, size, digest, input_hw, threads=threads)
    if found is not None:
        return found
    # the build step: the only road from the runtime to torch, taken once per weights file
    from ..export.build import build_export

    return load_backend(build_export(weights, name, size, digest), name, threads=threads)


def _open_export_file(path: Path, backend: str, threads: int | None) -> tuple[Backend, ModelConfig]:
    kind = "coreml" if path.suffix == ".mlpackage" else "onnx"
    if backend not in ("auto", kind, "onnx-int8" if kind == "onnx" else kind):
        raise BackendError(f"backend {backend!r} cannot run {path} (a {kind} export)")
    runtime = load_backend(path, kind, threads=threads)
    try:
        config = ModelConfig.from_json(runtime.metadata["config"])
    except (KeyError, ValueError, TypeError, json.JSONDecodeError):
        raise BackendError(f"{kind} model {path}: its metadata holds no readable model config; "
                           f"re-export it with `fastvit-fx export {kind}`") from None
    return runtime, config


__all__ = ["open_backend", "open_segmenter"]
