"""The startup bench's peak memory is the child's own, not what this process had grown to."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from fastvit_fx.bench.startup import _env, _run


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is read from /proc (Linux)")
def test_peak_rss_is_the_childs_own_whatever_the_parent_holds():
    grown = np.ones(400_000_000, np.uint8)  # this process grows by 400 MB first
    _, small_peak, status, _, err = _run("x = 1", _env(), timeout=60)
    assert status == 0 and "PEAK_RSS_KB" not in err
    assert small_peak < 200, f"a bare interpreter reported {small_peak:.0f} MB"
    _, big_peak, status, _, _ = _run("import numpy as np; a = np.ones(300_000_000, np.uint8)", _env(), timeout=60)
    assert status == 0 and big_peak >= 300
    del grown
