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
