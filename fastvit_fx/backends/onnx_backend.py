"""ONNX Runtime (CPU): the exported fp32 or int8 graph, thread spinning off, thread count set."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .base import BackendError


def default_threads() -> int:
    """Cores this process may use (affinity-aware), at most 4: a batch-1 frame of this small network
    gains little from more, and the effects, capture and recorder threads need cores too."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(4, n))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


class OnnxBackend:
    """Runs a fastvit-fx ONNX export (see export.export_onnx) with ONNX Runtime on the CPU.

    Spinning is off (``session.intra_op.allow_spinning=0``): idle worker threads sleep instead of
    busy-waiting, so the segmenter leaves the cores to the camera, effects and recorder threads
    between frames. Any file problem is a one-line BackendError naming the file.
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        path = Path(path)
        if not path.exists():
            raise BackendError(f"onnx model {path}: no such file (write one with `fastvit-fx export onnx`)")
        if path.is_dir():
            raise BackendError(f"onnx model {path}: is a folder, not an .onnx file")
        try:
            import onnxruntime as ort
        except ImportError:
            raise BackendError("onnx backend needs onnxruntime: pip install 'fastvit-fx[onnx]'") from None
        self.path = path
        self.threads = int(threads or default_threads())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        opts.log_severity_level = 3  # errors only
        # zoom crops reach the network in many shapes; per-shape memory patterns and an arena that never
        # shrinks: a 10-minute soak grew 47 MB with them, 27 MB without, for +3% network time
        opts.enable_mem_pattern = False
        opts.enable_cpu_mem_arena = False
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own types (InvalidProtobuf, Fail, ...) for corrupt files
            raise BackendError(f"onnx model {path}: cannot be loaded ({_first_line(exc)})") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0].shape) != 4:
            raise BackendError(f"onnx model {path}: not a fastvit-fx segmenter "
                               f"(expected one 4-D input and one output)")
        meta = {k.removeprefix("fastvit_fx."): v
                for k, v in self.session.get_modelmeta().custom_metadata_map.items()}
        if "weights_sha256" not in meta:
            raise BackendError(f"onnx model {path}: no fastvit-fx metadata; export it with `fastvit-fx export onnx`")
        self.metadata = meta
        self.input_name, self.output_name = inputs[0].name, outputs[0].name
        h, w = inputs[0].shape[2:]
        self.input_hw = (h, w) if isinstance(h, int) and isinstance(w, int) else None
        self.int8 = meta.get("precision", "").startswith("int8")
        self.name = "onnx-int8-cpu" if self.int8 else "onnx-cpu"
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[2] % 32 or x.shape[3] % 32:
            raise ValueError(f"expected (1, 3, H, W) with H and W multiples of 32, got {x.shape}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        with self._lock:
            (prob,) = self.session.run([self.output_name], {self.input_name: x})
        return prob
