"""Start-up cost, each measured in a fresh process: time to a bad `--source` error, time to the
first segmented frame with the export cached, and the peak memory of each process. Every case
also runs with torch and timm imported first, as a reference in the same run: what start-up
cost while the runtime imported them.

The first-frame process builds what the app builds up to its first mask, without the window:
the demo source, the effect presets and renderer, the Segmenter from open_segmenter (smoothing
on, as for video), then one frame segmented and rendered. The app's own process (window, HUD,
pipeline threads; Qt offscreen) is measured for peak memory over a few seconds of the demo.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PRELOAD_TORCH = "import torch, timm  # the reference: what the runtime used to import\n"

FIRST_FRAME = """
import json, sys, time
from fastvit_fx.io.capture import open_source
from fastvit_fx.fx import EffectRenderer, load_presets
from fastvit_fx.segment import open_segmenter

source = open_source("demo").start()
renderer = EffectRenderer(load_presets().get({effect!r}))
segmenter = open_segmenter({weights!r}, backend={backend!r}, smooth=True)
_, frame = source.read(after=0, timeout=30)
renderer.render(frame.image, segmenter(frame.image), 0.0)
done = time.time()
source.stop()
print("STARTUP " + json.dumps({{"done": done, "backend": segmenter.backend_name,
                               "torch": "torch" in sys.modules}}))
"""

CLI = "import sys\nfrom fastvit_fx.cli import main\nsys.exit(main({argv!r}))\n"


# The child reports its own high-water mark at exit. wait4's ru_maxrss is not enough on Linux: a
# forked child keeps the parent's peak from before its exec, so after a bench section that grew this
# process to 700 MB, every child "peaked" at 700 MB.
REPORT_PEAK = """import atexit, sys
def _report_peak():
    try:
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'):
                sys.stderr.write('PEAK_RSS_KB ' + line.split()[1] + '\\n')
    except OSError:
        pass
atexit.register(_report_peak)
"""


def _run(code: str, env: dict, timeout: float) -> tuple[float, float, int, str, str]:
    """(seconds from spawn to exit, peak RSS in MB, exit status, stdout, stderr) of `python -c code`.
    Peak RSS is the child's own since its exec (VmHWM, reported by the child; wait4 where /proc is
    missing), so the bench's memory never counts; NaN where neither is available."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.time()
        proc = subprocess.Popen([sys.executable, "-c", REPORT_PEAK + code], stdout=out, stderr=err, env=env)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            if hasattr(os, "wait4"):
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                scale = 1 << 20 if sys.platform == "darwin" else 1 << 10  # bytes on macOS, KiB on Linux
                peak = usage.ru_maxrss / scale
            else:
                proc.wait()
                peak = float("nan")
        finally:
            killer.cancel()
        wall = time.time() - t0
        out.seek(0)
        err.seek(0)
        lines = err.read().splitlines(keepends=True)
        reported = [ln for ln in lines if ln.startswith("PEAK_RSS_KB ")]
        if reported:
            peak = int(reported[-1].split()[1]) / 1024
        return wall, peak, proc.returncode, out.read(), "".join(ln for ln in lines if ln not in reported)


def _env(extra: dict | None = None) -> dict:
    root = str(Path(__file__).resolve().parents[2])  # this checkout's fastvit_fx, not another install
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "QT_QPA_PLATFORM": "offscreen", **(extra or {})}


def time_bad_source(torch_first: bool, missing: str) -> tuple[float, float, str]:
    code = (PRELOAD_TORCH if torch_first else "") + CLI.format(argv=["--source", missing])
    wall, peak, status, _, err = _run(code, _env(), timeout=120)
    if status != 2 or missing not in err:
        raise RuntimeError(f"expected a one-line error naming {missing}, got status {status}: {err.strip()[-300:]}")
    return wall, peak, err.strip().splitlines()[-1]


def time_first_frame(torch_first: bool, weights: str | None, backend: str, effect: str) -> tuple[float, float, dict]:
    code = (PRELOAD_TORCH if torch_first else "") + FIRST_FRAME.format(weights=weights, backend=backend,
                                                                      effect=effect)
    t0 = time.time()
    wall, peak, status, out, err = _run(code, _env(), timeout=600)
    lines = [ln for ln in out.splitlines() if ln.startswith("STARTUP ")]
    if status != 0 or not lines:
        raise RuntimeError(f"first-frame process failed (status {status}): {err.strip()[-300:]}")
    info = json.loads(lines[-1][len("STARTUP "):])
    return info["done"] - t0, peak, info


def app_peak_rss(torch_first: bool, seconds: float, weights: str | None, backend: str) -> float:
    with tempfile.TemporaryDirectory(prefix="fastvit-fx-startup-") as tmp:
        argv = ["--source", "demo", "--effect", "rim-light", "--quit-after", str(seconds),
                "--settings", str(Path(tmp) / "settings.ini"), "--record-dir", tmp, "--backend", backend]
        if weights:
            argv += ["--weights", weights]
        code = (PRELOAD_TORCH if torch_first else "") + CLI.format(argv=argv)
        _, peak, status, _, err = _run(code, _env(), timeout=seconds + 120)
    if status != 0:
        raise RuntimeError(f"app process failed (status {status}): {err.strip()[-300:]}")
    return peak


def bench_startup(runs: int = 3, weights: str | None = None, backend: str = "auto", effect: str = "rim-light",
                  app_seconds: float = 6.0) -> dict:
    """Medians over `runs` fresh processes of each case, runtime as shipped vs torch imported first."""
    weights = str(weights) if weights else None
    first, _, info = time_first_frame(False, weights, backend, effect)  # builds the export if missing
    warm = {"backend": info["backend"], "first_run_s": round(first, 2)}
    missing = str(Path(tempfile.gettempdir()) / "fastvit-fx-no-such-video.mp4")
    samples: dict[tuple[str, bool], list[float]] = {}

    def add(key, value):
        samples.setdefault(key, []).append(value)

    notes = {}
    for _ in range(runs):
        for torch_first in (False, True):  # interleaved: both see the same machine load
            wall, peak, line = time_bad_source(torch_first, missing)
            add(("bad --source error (s)", torch_first), wall)
            add(("bad --source peak RSS (MB)", torch_first), peak)
            notes["error"] = line
            wall, peak, info = time_first_frame(torch_first, weights, backend, effect)
            add(("first segmented frame, export cached (s)", torch_first), wall)
            add(("first-frame process peak RSS (MB)", torch_first), peak)
            if not torch_first:
                notes["torch imported by the runtime"] = info["torch"]
    app = {}
    if app_seconds > 0:
        for torch_first in (False, True):
            try:
                app[torch_first] = app_peak_rss(torch_first, app_seconds, weights, backend)
            except Exception as exc:  # the app needs Qt: report why instead of failing the bench
                app[torch_first] = None
                notes["app"] = str(exc)
    rows = []
    for name in dict.fromkeys(k for k, _ in samples):
        plain, ref = statistics.median(samples[(name, False)]), statistics.median(samples[(name, True)])
        rows.append({"measure": name, "runtime": round(plain, 2), "with torch imported": round(ref, 2),
                     "ratio": round(plain / ref, 2)})
    if app.get(False) and app.get(True):
        rows.append({"measure": f"app peak RSS over {app_seconds:g} s of the demo (MB)", "runtime": round(app[False]),
                     "with torch imported": round(app[True]), "ratio": round(app[False] / app[True], 2)})
    return {"runs": runs, "cpus": os.cpu_count(), **warm, **notes, "rows": rows}
