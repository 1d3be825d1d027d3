"""Thread policy in one place: how many threads the network may use beside the live threads.

The live path also runs capture, compose, encoding and the GUI; on a 2-core machine torch's default
two threads next to them make each inference wait on a descheduled thread (measured: 27 ms with one
thread, 400-1100 ms with two while the cores were busy). torch is only touched when something else
already imported it: nothing here imports it.
"""
from __future__ import annotations

import contextlib
import os
import sys


def network_threads(share: float = 0.5) -> int:
    """About `share` of the cores, at least one; FASTVIT_FX_THREADS overrides."""
    env = os.environ.get("FASTVIT_FX_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, int((os.cpu_count() or 2) * share))


def limit_torch_threads(share: float = 0.5) -> int | None:
    """Cap torch's intra-op threads (call it on the thread that runs the network: OpenMP settings can
    be per thread); returns the previous setting, None when torch is not in use."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(network_threads(share))
    return before


def restore_torch_threads(before: int | None) -> None:
    torch = sys.modules.get("torch")
    if torch is not None and before is not None:
        torch.set_num_threads(before)


@contextlib.contextmanager
def capped_network_threads(enabled: bool = True):
    """limit_torch_threads() for the duration, then the old setting back."""
    before = limit_torch_threads() if enabled else None
    try:
        yield
    finally:
        restore_torch_threads(before)
