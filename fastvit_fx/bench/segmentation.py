"""Segmentation latency: each available backend and input size, fused vs unfused, batch 1."""
from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import numpy as np

from .timing import time_call


def _model_for_bench(weights: Path | None):
    """The shipped model if present; otherwise a randomly initialised one (same speed)."""
    from ..model import build_model, load_model
    from ..resources import default_weights

    path = Path(weights) if weights else default_weights()
    if path.exists():
        return load_model(path, fuse=False), str(path), path
    return build_model(), "random init (no trained weights found)", None


def bench_segmentation(sizes=(192, 256, 320), frame_hw=(720, 1280), repeats: int = 30,
                       weights: Path | None = None, backends: tuple[str, ...] = ("torch",)) -> dict:
    """Rows of {backend, size, input, fused, net_ms, net_p90_ms, segment_ms} for a 16:9 frame.

    net_ms: the network call alone; segment_ms: the whole Segmenter call (letterbox, network,
    guided upsampling to the frame). Unfused rows show what reparameterisation buys. Exported
    runtimes (onnx, onnx-int8, coreml) always run the fused graph; they are exported on first use
    (into the user cache) when no current export exists. Also reports which backend `auto` picks.
    """
    import torch

    from ..backends import create_backend
    from ..backends.torch_backend import TorchBackend
    from ..model import save_weights
    from ..preprocess import letterbox_shape, to_network_input
    from ..segment import Segmenter

    base, source, path = _model_for_bench(weights)
    tmp = None
    if path is None and any(name != "torch" for name in backends):
        # exported runtimes need a weights file: time a random model exactly like a trained one
        tmp = tempfile.TemporaryDirectory(prefix="fastvit-fx-bench-")
        path = save_weights(base, Path(tmp.name) / "random.safetensors")
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (*frame_hw, 3), dtype=np.uint8)
    rows = []
    try:
        for name in backends:
            for fused in (True, False):
                if name != "torch" and not fused:
                    continue  # exported runtimes only ever run the fused graph
                for size in sizes:
                    if name == "torch":
                        backend = TorchBackend(copy.deepcopy(base), device="cpu", fuse=fused)
                    else:
                        backend = create_backend(name, path, size, "cpu")
                    box = letterbox_shape(*frame_hw, size, fixed=getattr(backend, "input_hw", None))
                    x = to_network_input(frame, box, base.config.mean, base.config.std)
                    net = time_call(lambda: backend(x), repeats=repeats)
                    seg = Segmenter.from_backend(backend, base.config, size=size)
                    full = time_call(lambda: seg(frame), repeats=repeats)
                    rows.append({"backend": backend.name, "size": size, "input": f"{box.in_w}x{box.in_h}",
                                 "fused": fused, "net_ms": net["median_ms"], "net_p90_ms": net["p90_ms"],
                                 "segment_ms": full["median_ms"]})
    finally:
        if tmp is not None:
            tmp.cleanup()
    return {"model": source, "frame": f"{frame_hw[1]}x{frame_hw[0]}", "threads": torch.get_num_threads(),
            "auto": auto_choice(), "rows": rows}


def auto_choice() -> str:
    """The backend `auto` would try first on this machine (without building it)."""
    from ..backends import auto_candidates

    return auto_candidates()[0]
