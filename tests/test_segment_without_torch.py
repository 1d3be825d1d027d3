"""The runtime without torch: with a cached export, opening a Segmenter on ONNX Runtime and the
`segment` and `render` commands never import torch or timm, and bad arguments or files are
reported before any heavy import. Each check runs in a fresh interpreter (this one has torch)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "timm", "torchvision", "onnx")  # onnx: only building an export needs it


@pytest.fixture(scope="module")
def cached(tmp_path_factory, weights_file):
    """Weights with their fp32 and int8 exports built into a private cache (as a first run leaves them)."""
    folder = tmp_path_factory.mktemp("runtime")
    weights = Path(shutil.copy(weights_file, folder / "tiny.safetensors"))
    cache = folder / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASTVIT_FX_CACHE", str(cache))
        from fastvit_fx.export.build import build_export

        for kind in ("onnx", "onnx-int8"):
            assert cache in build_export(weights, kind, 128).parents
    return weights, cache


def run_fresh(code: str, cache: Path) -> dict:
    """Run `code` in a new interpreter; it leaves its findings in `result`; heavy modules are added."""
    script = (f"import json, sys\nresult = {{}}\n{code}\n"
              f"result['heavy'] = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
              "print('RESULT ' + json.dumps(result))\n")
    env = {**os.environ, "FASTVIT_FX_CACHE": str(cache), "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                          cwd=str(ROOT))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    result = json.loads(lines[-1][len("RESULT "):])
    result["stderr"] = proc.stderr
    return result


@pytest.mark.parametrize("backend,device,name", [("onnx", None, "onnx-cpu"), ("onnx-int8", None, "onnx-int8-cpu"),
                                                 ("auto", "cpu", "onnx-int8-cpu")])
def test_segmenter_from_a_cached_export_imports_no_torch(cached, backend, device, name):
    weights, cache = cached
    result = run_fresh(f"""
import numpy as np
from fastvit_fx import open_segmenter
seg = open_segmenter({str(weights)!r}, backend={backend!r}, size=128, device={device!r}, smooth=True)
mask = seg(np.full((90, 160, 3), 128, np.uint8))
result.update(backend=seg.backend_name, shape=list(mask.shape))
""", cache)
    assert result["heavy"] == []
    assert result["backend"] == name and result["shape"] == [90, 160]
    assert "exporting" not in result["stderr"]  # found in the cache, not rebuilt


def test_segment_and_render_commands_import_no_torch(cached, tmp_path, person_frame):
    weights, cache = cached
    cv2.imwrite(str(tmp_path / "a.png"), person_frame(60, 80)[0])
    result = run_fresh(f"""
import av, numpy as np
from fastvit_fx.cli import main
result['segment'] = main(['segment', {str(tmp_path / 'a.png')!r}, '--out', {str(tmp_path / 'masks')!r},
                          '--weights', {str(weights)!r}, '--backend', 'onnx', '--size', '128'])
with av.open({str(tmp_path / 'in.mp4')!r}, 'w') as out:
    stream = out.add_stream('libx264', rate=10)
    stream.width, stream.height, stream.pix_fmt = 96, 64, 'yuv420p'
    for i in range(5):
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((64, 96, 3), 40 * i, np.uint8), format='bgr24')):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
result['render'] = main(['render', {str(tmp_path / 'in.mp4')!r}, '--effect', 'blur-bg', '--out',
                         {str(tmp_path / 'out.mp4')!r}, '--no-progress', '--weights', {str(weights)!r},
                         '--backend', 'onnx-int8', '--size', '128'])
""", cache)
    assert result["segment"] == 0 and result["render"] == 0, result["stderr"]
    assert (tmp_path / "masks" / "a.png").is_file() and (tmp_path / "out.mp4").is_file()
    assert result["heavy"] == []


def test_bad_arguments_and_files_fail_before_any_heavy_import(cached, tmp_path, person_frame):
    weights, cache = cached
    cv2.imwrite(str(tmp_path / "a.png"), person_frame(40, 40)[0])
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken json")
    calls = {
        "missing_image": ["segment", str(tmp_path / "nope.png"), "--out", str(tmp_path / "o")],
        "missing_weights": ["segment", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"),
                            "--weights", str(tmp_path / "nope.safetensors")],
        "corrupt_weights": ["segment", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"),
                            "--weights", str(corrupt)],
        "missing_video": ["render", str(tmp_path / "nope.mp4"), "--effect", "snow", "--out", str(tmp_path / "x.mp4")],
        "bad_output": ["render", str(tmp_path / "a.png"), "--effect", "snow", "--out", str(tmp_path / "x.avi")],
    }
    result = run_fresh(f"""
from fastvit_fx.cli import main
for name, argv in {calls!r}.items():
    result[name] = main(argv)
""", cache)
    assert all(result[name] == 2 for name in calls), result
    assert "nope.safetensors" in result["stderr"] and "corrupt.safetensors" in result["stderr"]
    assert result["heavy"] == []
