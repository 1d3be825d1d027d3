"""Core ML export: converts here (Linux too) and its spec is checked; prediction only on macOS."""
from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

pytest.importorskip("coremltools")

from fastvit_fx.backends import BackendError  # noqa: E402
from fastvit_fx.backends.coreml_backend import CoreMLBackend, read_coreml_spec, spec_io  # noqa: E402
from fastvit_fx.export.cache import export_name, weights_digest  # noqa: E402
from fastvit_fx.export.coreml import export_coreml  # noqa: E402
from fastvit_fx.export.metadata import coreml_metadata  # noqa: E402
from fastvit_fx.export.shapes import fixed_input_hw  # noqa: E402
from fastvit_fx.segment import open_backend  # noqa: E402

SIZE = 128  # 16:9 -> input 128x96 (W x H): small, so the one conversion stays quick
ON_MAC = sys.platform == "darwin"
needs_mac = pytest.mark.skipif(not ON_MAC, reason="Core ML prediction needs macOS; conversion is tested here")


@pytest.fixture(scope="module")
def package(tmp_path_factory, weights_file):
    folder = tmp_path_factory.mktemp("coreml")
    weights = shutil.copy(weights_file, folder / "tiny.safetensors")
    out = folder / export_name(weights, "coreml", SIZE)
    return export_coreml(weights, out, size=SIZE)


def test_fixed_input_shapes():
    assert fixed_input_hw(256) == (160, 256)  # 1280x720 -> 256x144, padded to 256x160
    assert fixed_input_hw(320) == (192, 320)
    assert fixed_input_hw(128) == (96, 128)
    assert fixed_input_hw(256, (9, 16)) == (256, 160)  # portrait
    assert fixed_input_hw(256, (4, 3)) == (192, 256)
    assert fixed_input_hw(250) == (160, 256)  # sides round up to multiples of 32


def test_package_name_and_layout(package):
    assert package.name == "tiny-128x96.mlpackage"
    assert (package / "Manifest.json").is_file()


def test_spec_inputs_outputs(package):
    spec = read_coreml_spec(package)
    assert spec.WhichOneof("Type") == "mlProgram"
    assert spec.specificationVersion >= 7  # macOS 13 / iOS 16 ML Program
    in_name, in_shape, out_name, out_shape = spec_io(spec)
    assert (in_name, in_shape) == ("input", (1, 3, 96, 128))
    assert (out_name, out_shape) == ("prob", (1, 1, 24, 32))  # stride 4
    from coremltools.proto import FeatureTypes_pb2 as ft

    assert spec.description.input[0].type.multiArrayType.dataType == ft.ArrayFeatureType.FLOAT32
    assert spec.description.output[0].type.multiArrayType.dataType == ft.ArrayFeatureType.FLOAT32


def test_spec_metadata(package):
    spec = read_coreml_spec(package)
    meta = coreml_metadata(package)
    assert json.loads(meta["labels"]) == ["person"]
    assert meta["input_size"] == str(SIZE)
    assert json.loads(meta["input_hw"]) == [96, 128]
    assert meta["precision"] == "fp16"
    assert meta["weights_sha256"] == weights_digest(package.parent / "tiny.safetensors")
    from fastvit_fx import __version__

    assert meta["version"] == __version__
    assert spec.description.metadata.versionString == __version__
    assert "person" in spec.description.metadata.shortDescription
    assert spec.description.input[0].shortDescription  # documented input


def test_weights_are_fp16(package, tiny_model):
    """Every large constant in the program is fp16, and the weight blob is ~2 bytes a parameter."""
    import copy

    from coremltools.proto import MIL_pb2

    from fastvit_fx.model import reparameterize

    spec = read_coreml_spec(package)
    dtypes = {}
    for fn in spec.mlProgram.functions.values():
        for block in fn.block_specializations.values():
            for op in block.operations:
                if op.type != "const":
                    continue
                ttype = op.outputs[0].type.tensorType
                n = int(np.prod([d.constant.size for d in ttype.dimensions])) if ttype.dimensions else 1
                if n >= 64:
                    dtypes[op.outputs[0].name] = ttype.dataType
    assert dtypes, "no weight constants found in the program"
    assert set(dtypes.values()) == {MIL_pb2.FLOAT16}
    n_params = sum(p.numel() for p in reparameterize(copy.deepcopy(tiny_model)).parameters())
    blob = sum(p.stat().st_size for p in package.rglob("weight.bin"))
    assert 1.8 * n_params < blob < 2.6 * n_params


def test_backend_on_linux_says_macos_is_needed(package):
    if ON_MAC:
        pytest.skip("this checks the message off macOS")
    with pytest.raises(BackendError, match="needs macOS") as info:
        CoreMLBackend(package)
    assert str(package) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(BackendError, match="only on macOS"):
        open_backend(package.parent / "tiny.safetensors", "coreml", SIZE)[0]


@needs_mac
def test_prediction_matches_torch(package):
    from fastvit_fx.backends.torch_backend import TorchBackend
    from fastvit_fx.model import load_model

    backend = CoreMLBackend(package)
    assert backend.input_hw == (96, 128) and backend.name == "coreml"
    x = np.random.default_rng(0).standard_normal((1, 3, 96, 128)).astype(np.float32)
    ref = TorchBackend(load_model(package.parent / "tiny.safetensors"), device="cpu")(x)
    out = backend(x)
    assert out.shape == ref.shape and out.dtype == np.float32
    assert np.abs(out - ref).max() < 2e-2  # fp16


@needs_mac
def test_segmenter_letterboxes_into_the_fixed_shape(package, person_frame):
    from fastvit_fx.model import ModelConfig
    from fastvit_fx.segment import Segmenter

    frame, _ = person_frame(480, 640)  # 4:3 into the 16:9 package
    seg = Segmenter(CoreMLBackend(package), ModelConfig(), size=SIZE)
    assert seg(frame).shape == frame.shape[:2]


# --- missing and corrupt packages: one line naming the file -------------------------------------

def _check(exc, path):
    assert str(path) in str(exc) and "\n" not in str(exc)


def test_missing_package(tmp_path):
    path = tmp_path / "nope.mlpackage"
    with pytest.raises(BackendError, match="no such file") as info:
        CoreMLBackend(path)
    _check(info.value, path)


def test_folder_that_is_not_a_package(tmp_path):
    path = tmp_path / "empty.mlpackage"
    path.mkdir()
    with pytest.raises(BackendError, match="not an .mlpackage") as info:
        open_backend(path, "coreml", SIZE)[0]
    _check(info.value, path)


def test_corrupt_package(tmp_path, package):
    path = shutil.copytree(package, tmp_path / "broken.mlpackage")
    (model,) = path.rglob("model.mlmodel")
    model.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(BackendError, match="unreadable") as info:
        CoreMLBackend(path)
    _check(info.value, path)
    manifest = tmp_path / "bad-manifest.mlpackage"
    shutil.copytree(package, manifest)
    (manifest / "Manifest.json").write_text("{not json")
    with pytest.raises(BackendError) as info:
        CoreMLBackend(manifest)
    _check(info.value, manifest)


def test_export_command_checks_before_converting(tmp_path, weights_file, capsys):
    from fastvit_fx.cli import main

    assert main(["export", "coreml", "--weights", str(weights_file), "--out", str(tmp_path / "m.onnx")]) == 2
    assert ".mlpackage" in capsys.readouterr().err
    assert main(["export", "coreml", "--weights", str(weights_file), "--int8"]) == 2
    assert main(["export", "coreml", "--weights", str(weights_file), "--aspect", "wide"]) == 2
    assert "--aspect" in capsys.readouterr().err
