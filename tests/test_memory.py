"""fastvit_fx.memory: the allocator setting takes on glibc and is a no-op elsewhere."""
from __future__ import annotations

import platform
import sys

import pytest

from fastvit_fx import memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_takes_the_setting():
    assert memory.keep_freed_buffers() is True


def test_other_platforms_are_left_alone(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.keep_freed_buffers() is False


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_buffers_are_kept_until_released():
    import numpy as np

    from fastvit_fx.bench.soak import rss_mb

    assert memory.keep_freed_buffers() is True
    memory.release_freed_buffers()  # whatever earlier tests freed is not resident: the block faults in
    base = rss_mb()
    block = np.ones((48 << 20) // 8)  # 48 MB, touched: under the mmap threshold, so from the heap
    del block
    held = rss_mb()
    assert held - base > 30  # freed, but kept for the next frame
    assert memory.release_freed_buffers() is True
    assert held - rss_mb() > 30


def test_release_every_calls_the_release_until_stopped(monkeypatch):
    import threading

    calls = threading.Semaphore(0)
    monkeypatch.setattr(memory, "release_freed_buffers", lambda: calls.release() or True)
    stop = memory.release_every(0.01)
    if stop is None:
        pytest.skip("no malloc_trim here")
    assert calls.acquire(timeout=5) and calls.acquire(timeout=5)
    stop.set()


def test_nothing_is_released_on_other_platforms(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.release_freed_buffers() is False and memory.release_every(0.01) is None
