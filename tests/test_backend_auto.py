"""`auto` picks sensibly on each platform (probes mocked), falls back, and bench lists backends."""
from __future__ import annotations

import logging
import shutil
import sys

import pytest

from fastvit_fx import backends
from fastvit_fx.backends import CPU_DEFAULT, BackendError, auto_candidates
from fastvit_fx.backends import probe
from fastvit_fx.segment import open as segment_open
from fastvit_fx.segment import open_backend

CPU = [CPU_DEFAULT, "onnx"] if CPU_DEFAULT != "onnx" else ["onnx"]  # the ONNX Runtime choices, best first


def have(*modules):
    return lambda name: name in modules


ALL = have("coremltools", "onnx", "onnxruntime")


def test_macos_prefers_coreml_then_cpu_runtimes():
    assert auto_candidates(platform="darwin", accelerator=None, have=ALL) == ["coreml", *CPU, "torch"]


def test_apple_silicon_without_coremltools_uses_mps_torch():
    assert auto_candidates(platform="darwin", accelerator="mps", have=have())[0] == "torch"


def test_macos_with_coreml_and_mps_keeps_torch_as_fallback():
    assert auto_candidates(platform="darwin", accelerator="mps", have=ALL) == ["coreml", "torch", *CPU]


def test_cuda_machine_uses_torch():
    assert auto_candidates(platform="linux", accelerator="cuda", have=ALL)[0] == "torch"


def test_cpu_only_linux_prefers_onnx_runtime():
    assert auto_candidates(platform="linux", accelerator=None, have=ALL) == [*CPU, "torch"]
    assert auto_candidates(platform="win32", accelerator=None, have=ALL) == [*CPU, "torch"]


def test_cpu_only_without_onnx_uses_torch():
    assert auto_candidates(platform="linux", accelerator=None, have=have("onnx")) == ["torch"]


def test_explicit_devices():
    assert auto_candidates("cuda", platform="linux", accelerator="cuda", have=ALL) == ["torch"]
    assert auto_candidates("mps", platform="darwin", accelerator="mps", have=ALL) == ["torch"]
    # an explicit CPU: the fastest CPU runtime, not Core ML (which would use the GPU/ANE)
    assert auto_candidates("cpu", platform="darwin", accelerator="mps", have=ALL) == [*CPU, "torch"]


def test_unknown_backend_name(weights_file):
    with pytest.raises(BackendError, match="unknown"):
        open_backend(weights_file, "tensorrt", 128)[0]


def test_auto_falls_back_when_the_first_choice_fails(weights_file, monkeypatch, caplog):
    if sys.platform == "darwin":
        pytest.skip("checks the fallback where Core ML cannot run")
    monkeypatch.setattr(segment_open, "auto_candidates", lambda device=None: ["coreml", "torch"])
    with caplog.at_level(logging.WARNING, logger="fastvit_fx.segment"):
        backend = open_backend(weights_file, "auto", 128, device="cpu")[0]
    assert backend.name == "torch-cpu"
    assert any("coreml unavailable" in r.getMessage() for r in caplog.records)


def test_auto_reports_bad_weights_instead_of_falling_back(tmp_path, monkeypatch):
    from fastvit_fx.model import WeightsError

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"x" * 100)
    monkeypatch.setattr(segment_open, "auto_candidates", lambda device=None: ["torch"])
    with pytest.raises(WeightsError, match="bad.safetensors"):
        open_backend(bad, "auto", 128)[0]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, weights_file):
    """Weights and a user cache shared by the tests below, so the model is exported to ONNX once."""
    folder = tmp_path_factory.mktemp("auto")
    return shutil.copy(weights_file, folder / "w.safetensors"), folder / "cache"


def test_auto_on_this_machine_is_a_cpu_runtime(workspace, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    if sys.platform == "darwin":
        pytest.skip("on macOS auto converts to Core ML")
    weights, cache = workspace
    monkeypatch.setenv("FASTVIT_FX_CACHE", str(cache))
    monkeypatch.setattr(probe, "torch_accelerator_hint", lambda platform=None: None)
    backend = open_backend(weights, "auto", 64)[0]
    assert backend.name == {"onnx": "onnx-cpu", "onnx-int8": "onnx-int8-cpu"}[CPU_DEFAULT]
    assert {"onnx", "onnx-int8"} <= set(backends.available_backends())


def test_bench_times_every_backend_asked_for(workspace, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    weights, cache = workspace
    monkeypatch.setenv("FASTVIT_FX_CACHE", str(cache))
    from fastvit_fx.bench.segmentation import bench_segmentation

    report = bench_segmentation(sizes=(64,), frame_hw=(72, 128), repeats=2, weights=weights,
                                backends=("torch", "onnx", "onnx-int8"))
    names = {(r["backend"], r["fused"]) for r in report["rows"]}
    assert {("torch-cpu", True), ("torch-cpu", False), ("onnx-cpu", True), ("onnx-int8-cpu", True)} <= names
    assert all(r["net_ms"] > 0 for r in report["rows"])
