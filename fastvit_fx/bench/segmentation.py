"""Segmentation latency: each available backend and input size, fused vs unfused, batch 1."""
from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path

import numpy as np


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
    guided upsampling to the frame). All rows of one size are timed in interleaved rounds. Unfused rows show what reparameterisation buys. Exported
    runtimes (onnx, onnx-int8, coreml) always run the fused graph; they are exported on first use
    (into the user cache) when no current export exists. Also reports which backend `auto` picks.
    """
    import torch

    from ..backends.torch_backend import TorchBackend
    from ..model import save_weights
    from ..segment import Segmenter, open_backend
    from ..segment.letterbox import letterbox_shape, to_network_input

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
        for size in sizes:
            # every backend at this size, then timed in interleaved rounds: all rows of one size see
            # the same machine load, so they compare fairly even on a busy machine
            cases = []
            for name in backends:
                for fused in (True, False):
                    if name != "torch" and not fused:
                        continue  # exported runtimes only ever run the fused graph
                    if name == "torch":
                        backend = TorchBackend(copy.deepcopy(base), device="cpu", fuse=fused)
                    else:
                        backend, _ = open_backend(path, name, size, device="cpu")
                    box = letterbox_shape(*frame_hw, size, fixed=getattr(backend, "input_hw", None))
                    x = to_network_input(frame, box, base.config.mean, base.config.std)
                    seg = Segmenter(backend, base.config, size=size, zoom=False)  # one pass
                    cases.append({"backend": backend, "box": box, "fused": fused,
                                  "net": (lambda b=backend, x=x: b(x)), "seg": (lambda s=seg: s(frame))})
            samples = interleaved([fn for c in cases for fn in (c["net"], c["seg"])], repeats=repeats)
            for i, c in enumerate(cases):
                net, full = samples[2 * i], samples[2 * i + 1]
                rows.append({"backend": c["backend"].name, "size": size,
                             "input": f"{c['box'].in_w}x{c['box'].in_h}", "fused": c["fused"],
                             "net_ms": float(np.median(net)), "net_p90_ms": float(np.percentile(net, 90)),
                             "segment_ms": float(np.median(full))})
    finally:
        if tmp is not None:
            tmp.cleanup()
    order = {name: i for i, name in enumerate(dict.fromkeys(r["backend"] for r in rows))}
    rows.sort(key=lambda r: (order[r["backend"]], not r["fused"], r["size"]))
    return {"model": source, "frame": f"{frame_hw[1]}x{frame_hw[0]}", "threads": torch.get_num_threads(),
            "auto": auto_choice(), "rows": rows}


def interleaved(fns, repeats: int = 30, warmup: int = 3) -> list[list[float]]:
    """Milliseconds per call of each fn, timed in rounds (fn 1, fn 2, ..., then again)."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            samples[i].append((time.perf_counter() - t0) * 1000)
    return samples


def auto_choice() -> str:
    """The backend `auto` would try first on this machine (without building it)."""
    from ..backends import auto_candidates

    return auto_candidates()[0]
