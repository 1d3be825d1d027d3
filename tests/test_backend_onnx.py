"""ONNX export and the ONNX Runtime backend: same numbers as torch, metadata, caching, int8, errors."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from fastvit_fx.backends import BackendError  # noqa: E402
from fastvit_fx.backends.onnx_backend import OnnxBackend  # noqa: E402
from fastvit_fx.export.cache import export_name, weights_digest  # noqa: E402
from fastvit_fx.export.calibration import calibration_inputs, shipped_calibration_dir  # noqa: E402
from fastvit_fx.export.int8 import quantize_onnx_int8  # noqa: E402
from fastvit_fx.export.metadata import onnx_metadata  # noqa: E402
from fastvit_fx.export.onnx import export_onnx  # noqa: E402
from fastvit_fx.segment import open_backend  # noqa: E402


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory, weights_file):
    """A private copy of the test weights with one fp32 export beside it (shared by the module)."""
    folder = tmp_path_factory.mktemp("onnx")
    weights = shutil.copy(weights_file, folder / "tiny.safetensors")
    export_onnx(weights, folder / export_name(weights, "onnx", 128), size=128)
    return folder


@pytest.fixture(scope="module")
def onnx_path(onnx_dir):
    return onnx_dir / "tiny.onnx"


@pytest.fixture(scope="module")
def torch_backend(onnx_dir):
    from fastvit_fx.backends.torch_backend import TorchBackend
    from fastvit_fx.model import load_model

    return TorchBackend(load_model(onnx_dir / "tiny.safetensors"), device="cpu")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTVIT_FX_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("hw", [(96, 128), (160, 256), (64, 32)])
def test_onnx_matches_torch(onnx_path, torch_backend, hw):
    backend = OnnxBackend(onnx_path, threads=2)
    x = np.random.default_rng(hw[0]).standard_normal((1, 3, *hw)).astype(np.float32)
    ref, out = torch_backend(x), backend(x)
    assert out.shape == ref.shape == (1, 1, hw[0] // 4, hw[1] // 4)
    assert out.dtype == np.float32
    assert ref.std() > 1e-2  # a real comparison, not two constant maps
    assert np.abs(out - ref).max() < 1e-3


def test_onnx_backend_settings_and_metadata(onnx_dir, onnx_path):
    backend = OnnxBackend(onnx_path, threads=3)
    assert backend.name == "onnx-cpu" and backend.input_hw is None  # dynamic H and W
    assert backend.threads == 3
    opts = backend.session.get_session_options()
    assert opts.intra_op_num_threads == 3
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    # zoom crops give the network many input shapes: no per-shape memory patterns or growing arena
    assert opts.enable_mem_pattern is False and opts.enable_cpu_mem_arena is False
    meta = onnx_metadata(onnx_path)
    assert meta["labels"] == '["person"]'
    assert meta["input_size"] == "128"
    assert meta["precision"] == "fp32"
    assert meta["weights_sha256"] == weights_digest(onnx_dir / "tiny.safetensors")
    from fastvit_fx import __version__

    assert meta["version"] == __version__


def test_onnx_rejects_input_not_multiple_of_32(onnx_path):
    with pytest.raises(ValueError, match="multiples of 32"):
        OnnxBackend(onnx_path)(np.zeros((1, 3, 100, 128), np.float32))


def test_segmenter_runs_on_onnx_backend(onnx_path, person_frame):
    from fastvit_fx.model import ModelConfig
    from fastvit_fx.segment import Segmenter

    frame, _ = person_frame(180, 320)
    seg = Segmenter(OnnxBackend(onnx_path), ModelConfig(), size=128)
    mask = seg(frame)
    assert mask.shape == frame.shape[:2] and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0


# --- errors: one line, naming the file ---------------------------------------------------------

def _one_line_naming(exc: BaseException, path) -> None:
    text = str(exc)
    assert "\n" not in text
    assert str(path) in text


def test_missing_onnx_file(tmp_path):
    path = tmp_path / "nope.onnx"
    with pytest.raises(BackendError) as info:
        OnnxBackend(path)
    _one_line_naming(info.value, path)


def test_corrupt_onnx_file(tmp_path, onnx_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(onnx_path.read_bytes()[:5000])  # truncated
    with pytest.raises(BackendError) as info:
        OnnxBackend(path)
    _one_line_naming(info.value, path)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\xffnot a model" * 10)
    with pytest.raises(BackendError) as info:
        open_backend(garbage, "onnx", 128)[0]
    _one_line_naming(info.value, garbage)


def test_foreign_onnx_model_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 32, 32])])
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(BackendError, match="fastvit-fx metadata") as info:
        OnnxBackend(path)
    _one_line_naming(info.value, path)


# --- finding, caching and exporting on demand --------------------------------------------------

def test_open_backend_prefers_current_export_beside_weights(onnx_dir, onnx_path):
    backend = open_backend(onnx_dir / "tiny.safetensors", "onnx", 128)[0]
    assert backend.path == onnx_path


def test_open_backend_exports_once_into_cache_and_ignores_stale(tmp_path, onnx_path, weights_file):
    from fastvit_fx.resources import user_cache_dir

    weights = shutil.copy(weights_file, tmp_path / "tiny.safetensors")
    # a stale export beside the weights: its recorded digest is of other weights
    import onnx

    from fastvit_fx.export.metadata import META_PREFIX

    stale = onnx.load(str(onnx_path))
    for p in stale.metadata_props:
        if p.key == META_PREFIX + "weights_sha256":
            p.value = "0" * 64
    onnx.save(stale, str(tmp_path / "tiny.onnx"))

    first = open_backend(weights, "onnx", 128)[0]
    assert first.path != tmp_path / "tiny.onnx"
    assert user_cache_dir() in first.path.parents
    stamp = first.path.stat().st_mtime_ns
    second = open_backend(weights, "onnx", 128)[0]
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp  # reused, not re-exported


def test_int8_is_quantised_once_on_first_use(tmp_path, onnx_dir, onnx_path):
    """With no int8 export around, onnx-int8 quantises the fp32 export (calibrated on the built-in
    frames shipped in models/calibration) into the user cache, and reuses it next time."""
    from fastvit_fx.resources import user_cache_dir

    weights = shutil.copy(onnx_dir / "tiny.safetensors", tmp_path / "tiny.safetensors")
    shutil.copy(onnx_path, tmp_path / "tiny.onnx")  # the current fp32 export: only quantisation is left
    first = open_backend(weights, "onnx-int8", 128)[0]
    assert first.name == "onnx-int8-cpu" and user_cache_dir() in first.path.parents
    shipped = len(list(shipped_calibration_dir().glob("*.jpg")))
    assert shipped >= 16 and onnx_metadata(first.path)["calibration_frames"] == str(shipped)
    stamp = first.path.stat().st_mtime_ns
    again = open_backend(weights, "onnx-int8", 128)[0]
    assert again.path == first.path and again.path.stat().st_mtime_ns == stamp


def test_int8_quantisation(onnx_dir, onnx_path, person_frame):
    from fastvit_fx.model import ModelConfig

    frames = [person_frame(200 + 20 * i, 300)[0] for i in range(4)]
    inputs = calibration_inputs(frames, ModelConfig(), 128)
    out = quantize_onnx_int8(onnx_path, onnx_dir / "tiny.int8.onnx", inputs)
    meta = onnx_metadata(out)
    assert meta["precision"].startswith("int8") and meta["calibration_frames"] == "4"
    assert meta["weights_sha256"] == weights_digest(onnx_dir / "tiny.safetensors")
    assert out.stat().st_size < 0.5 * onnx_path.stat().st_size  # int8 weights
    import onnx

    convs = [n for n in onnx.load(str(out)).graph.node if n.op_type in ("Conv", "QLinearConv")]
    assert convs[0].op_type == "Conv" and convs[-1].op_type == "Conv"  # image and classifier convs stay fp32
    assert all(n.op_type == "Conv" for n in convs if "stem" in n.name)  # and so does the whole stem
    assert sum(n.op_type == "QLinearConv" for n in convs) > 20
    depthwise = [n for n in convs if any(a.name == "group" and a.i > 1 for a in n.attribute)]
    assert depthwise and all(n.op_type == "Conv" for n in depthwise)
    q = open_backend(onnx_dir / "tiny.safetensors", "onnx-int8", 128)[0]
    assert q.name == "onnx-int8-cpu" and q.path == out
    x = inputs[0]
    ref, got = OnnxBackend(onnx_path)(x), q(x)
    assert got.shape == ref.shape
    assert np.abs(got - ref).mean() < 0.05  # quantisation noise, not a different model
    from fastvit_fx.backends import available_backends

    assert {"torch", "onnx", "onnx-int8"} <= set(available_backends())


def test_int8_quantisations_of_one_export_at_once_both_succeed(tmp_path, onnx_path, person_frame, monkeypatch):
    """ONNX Runtime writes and then deletes '<model>-inferred.onnx' beside the model it quantises; two
    processes quantising one export at once used to delete each other's (seen with parallel evals,
    which then fell back to fp32). Each call now quantises a private copy and leaves nothing beside it."""
    from concurrent.futures import ThreadPoolExecutor

    import onnxruntime.quantization as ortq

    from fastvit_fx.model import ModelConfig

    source = tmp_path / "shared.onnx"
    shutil.copy(onnx_path, source)
    inputs = calibration_inputs([person_frame(240, 320)[0]], ModelConfig(), 128)
    quantised, real = [], ortq.quantize_static
    monkeypatch.setattr(ortq, "quantize_static", lambda model, *a, **k: quantised.append(model) or real(model, *a, **k))
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda i: quantize_onnx_int8(source, tmp_path / f"q{i}.int8.onnx", inputs), range(2)))
    assert all(o.is_file() and onnx_metadata(o)["precision"].startswith("int8") for o in outs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q0.int8.onnx", "q1.int8.onnx", "shared.onnx"]
    assert len(quantised) == 2 and str(source) not in quantised and len(set(quantised)) == 2


def test_export_command_onnx_with_int8(tmp_path, onnx_dir, person_frame, capsys):
    import cv2

    from fastvit_fx.cli import main

    calib = tmp_path / "calib"
    calib.mkdir()
    for i in range(3):
        cv2.imwrite(str(calib / f"{i}.png"), person_frame(150, 200 + 40 * i)[0])
    out = tmp_path / "out" / "m.onnx"
    assert main(["export", "onnx", "--weights", str(onnx_dir / "tiny.safetensors"), "--size", "96",
                 "--out", str(out), "--int8", "--calib", str(calib)]) == 0
    assert out.exists() and (tmp_path / "out" / "m.int8.onnx").exists()
    assert "wrote" in capsys.readouterr().out
    assert onnx_metadata(out)["input_size"] == "96"


def test_export_command_errors(tmp_path, onnx_dir, capsys):
    from fastvit_fx.cli import main

    weights = str(onnx_dir / "tiny.safetensors")
    assert main(["export", "onnx", "--weights", weights, "--calib", str(tmp_path)]) == 2
    assert "--int8" in capsys.readouterr().err
    assert main(["export", "onnx", "--weights", str(tmp_path / "missing.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "missing.safetensors" in err and len(err.strip().splitlines()) == 1
    assert main(["export", "onnx", "--weights", weights, "--int8", "--calib", str(tmp_path / "nodir")]) == 2
    assert "nodir" in capsys.readouterr().err


def test_edge_refiner_exports_to_onnx_and_int8(tmp_path, person_frame):
    import torch

    from conftest import randomize_batchnorm
    from fastvit_fx.backends.torch_backend import TorchBackend
    from fastvit_fx.model import build_model, load_model, save_weights

    torch.manual_seed(4)
    model = randomize_batchnorm(build_model(refine_width=8), seed=4).eval()
    torch.nn.init.normal_(model.refiner.residual.weight, std=0.2)
    weights = save_weights(model, tmp_path / "refined.safetensors")
    fp32 = export_onnx(weights, tmp_path / "refined.onnx", size=128)
    assert "stride 2" in onnx_metadata(__import__("onnx").load(str(fp32)))["output"]
    x = np.random.default_rng(5).standard_normal((1, 3, 96, 128)).astype(np.float32)
    ref = TorchBackend(load_model(weights), device="cpu")(x)
    out = OnnxBackend(fp32, threads=2)(x)
    assert out.shape == ref.shape == (1, 1, 48, 64)
    assert ref.std() > 1e-2 and np.abs(out - ref).max() < 1e-3
    frame, _ = person_frame()
    int8 = quantize_onnx_int8(fp32, tmp_path / "refined.int8.onnx", calibration_inputs([frame], model.config, 128))
    assert OnnxBackend(int8, threads=2)(x).shape == (1, 1, 48, 64)


def test_quantiser_warnings_stay_off_stderr(tmp_path, onnx_path):
    """ONNX Runtime's quantiser logs 'Please consider to run pre-processing before quantization' on
    the root logger, and that first call sets up logging for the whole process ('WARNING:root:...').
    Users cannot act on it: it goes to our logger at DEBUG, and nothing else changes."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = f"""
import logging
import numpy as np
from fastvit_fx.export.int8 import quantize_onnx_int8
quantize_onnx_int8({str(onnx_path)!r}, {str(tmp_path / "q.int8.onnx")!r}, [np.zeros((1, 3, 64, 64), np.float32)])
assert logging.getLogger().handlers == [], logging.getLogger().handlers
logging.getLogger("fastvit_fx.backends").warning("a later warning of ours")
"""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert "pre-processing" not in proc.stderr and "WARNING:root" not in proc.stderr
    assert proc.stderr.strip() == "a later warning of ours"  # ours still reach stderr, as they are


def test_quantiser_warnings_are_kept_at_debug(tmp_path, onnx_path, caplog):
    import logging

    with caplog.at_level(logging.DEBUG, logger="fastvit_fx.export"):
        quantize_onnx_int8(onnx_path, tmp_path / "q.int8.onnx", [np.zeros((1, 3, 64, 64), np.float32)])
    debug = [r for r in caplog.records if r.name == "fastvit_fx.export" and r.levelno == logging.DEBUG]
    assert any("pre-processing" in r.getMessage() for r in debug)
    assert not any("pre-processing" in r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
