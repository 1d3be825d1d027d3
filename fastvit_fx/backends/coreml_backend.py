"""Core ML (macOS): the exported fp16 ML Program on CPU, GPU and Neural Engine (compute_units=ALL)."""
from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from pathlib import Path

import numpy as np

from .base import BackendError


@contextlib.contextmanager
def _quiet_coremltools():
    """coremltools logs a warning per missing native proxy on import off macOS, and one about an
    untested torch version; none of it matters for converting or reading a spec."""
    logger = logging.getLogger("coremltools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def import_coremltools():
    try:
        with _quiet_coremltools():
            import coremltools as ct
    except ImportError:
        raise BackendError("coreml backend needs coremltools: pip install 'fastvit-fx[coreml]' "
                           "(macOS and Linux)") from None
    return ct


def coreml_runs_here() -> bool:
    """Core ML prediction exists only on macOS (coremltools converts anywhere but predicts there)."""
    return sys.platform == "darwin"


def read_coreml_spec(path: Path):
    """The package's protobuf spec; a one-line BackendError naming the file for anything wrong."""
    path = Path(path)
    if not path.exists():
        raise BackendError(f"coreml package {path}: no such file (write one with `fastvit-fx export coreml`)")
    if not path.is_dir() or not (path / "Manifest.json").is_file():
        raise BackendError(f"coreml package {path}: not an .mlpackage folder (no Manifest.json)")
    ct = import_coremltools()
    try:
        json.loads((path / "Manifest.json").read_text())
        with _quiet_coremltools():
            spec = ct.utils.load_spec(str(path))
    except Exception as exc:
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise BackendError(f"coreml package {path}: unreadable ({text})") from None
    if spec.WhichOneof("Type") != "mlProgram":
        raise BackendError(f"coreml package {path}: not an ML Program; re-export with `fastvit-fx export coreml`")
    return spec


def spec_io(spec) -> tuple[str, tuple[int, ...], str, tuple[int, ...]]:
    """(input name, input shape, output name, output shape) of a one-in, one-out spec."""
    (inp,), (out,) = spec.description.input, spec.description.output
    return (inp.name, tuple(inp.type.multiArrayType.shape), out.name, tuple(out.type.multiArrayType.shape))


class CoreMLBackend:
    """Predicts one frame at a time with an exported .mlpackage (see export.export_coreml).

    The package has one fixed input shape; ``input_hw`` tells the Segmenter to letterbox into it.
    The spec is checked on every platform (missing/corrupt package -> one-line BackendError naming
    it); loading for prediction needs macOS, and elsewhere raises a BackendError that says so.
    """

    def __init__(self, path: str | Path, compute_units: str = "ALL") -> None:
        self.path = Path(path)
        spec = read_coreml_spec(self.path)
        try:
            self.input_name, in_shape, self.output_name, _ = spec_io(spec)
        except (ValueError, AttributeError):
            raise BackendError(f"coreml package {self.path}: not a fastvit-fx segmenter "
                               f"(expected one input and one output)") from None
        if len(in_shape) != 4:
            raise BackendError(f"coreml package {self.path}: input shape {in_shape} is not (1, 3, H, W)")
        meta = {k.removeprefix("fastvit_fx."): v for k, v in spec.description.metadata.userDefined.items()}
        if "weights_sha256" not in meta:
            raise BackendError(f"coreml package {self.path}: no fastvit-fx metadata; "
                               f"export it with `fastvit-fx export coreml`")
        self.metadata = meta
        self.input_hw = (int(in_shape[2]), int(in_shape[3]))
        self.name = "coreml"
        if not coreml_runs_here():
            raise BackendError(f"coreml package {self.path}: Core ML prediction needs macOS "
                               f"(this is {sys.platform}); use --backend onnx or torch")
        ct = import_coremltools()
        units = getattr(ct.ComputeUnit, compute_units.upper(), None)
        if units is None:
            raise BackendError(f"coreml compute units {compute_units!r}: choose ALL, CPU_AND_NE, CPU_AND_GPU or CPU_ONLY")
        try:
            with _quiet_coremltools():
                self.model = ct.models.MLModel(str(self.path), compute_units=units)
        except Exception as exc:
            text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise BackendError(f"coreml package {self.path}: Core ML cannot load it ({text})") from None
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if tuple(x.shape[2:]) != self.input_hw:
            raise ValueError(f"this Core ML package takes (1, 3, {self.input_hw[0]}, {self.input_hw[1]}), "
                             f"got {x.shape}")
        with self._lock:
            out = self.model.predict({self.input_name: np.ascontiguousarray(x, dtype=np.float32)})
        return np.asarray(out[self.output_name], dtype=np.float32)
