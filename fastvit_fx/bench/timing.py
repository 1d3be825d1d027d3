"""Timing helpers for benchmarks (never for assertions in tests: the machines are shared)."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def time_call(fn: Callable[[], object], repeats: int = 30, warmup: int = 3) -> dict:
    """Median and p90 wall time of fn() in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    arr = np.array(samples)
    return {"median_ms": float(np.median(arr)), "p90_ms": float(np.percentile(arr, 90)), "n": repeats}


def format_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """Plain-text table: columns are (key, header); floats print with 2 decimals."""
    def cell(v):
        return f"{v:.2f}" if isinstance(v, float) else ("" if v is None else str(v))

    body = [[cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, (_, h) in enumerate(columns)]
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(lines)
