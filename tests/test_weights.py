"""Weights I/O: round trip, and every corrupt-file case is a one-line error naming the file."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from fastvit_fx.model import WeightsError, build_model, load_model, load_weights, save_weights
from fastvit_fx.model.weights import CONFIG_KEY


def test_round_trip_rebuilds_the_same_model(tiny_model, weights_file):
    config, tensors = load_weights(weights_file)
    assert config == tiny_model.config
    model = load_model(weights_file, fuse=False)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        assert torch.equal(model(x), tiny_model(x))


def test_fp16_file_is_smaller_and_close(tmp_path, tiny_model, weights_file):
    half = save_weights(tiny_model, tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < 0.6 * weights_file.stat().st_size
    model = load_model(half, fuse=True)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        diff = (torch.sigmoid(model(x)) - torch.sigmoid(tiny_model(x))).abs().max()
    assert diff < 2e-2


def test_config_describes_architecture(tmp_path):
    model = build_model(arch="fastvit_t12", head_width=48)
    path = save_weights(model, tmp_path / "t12.safetensors")
    rebuilt = load_model(path, fuse=False)
    assert rebuilt.config.arch == "fastvit_t12" and rebuilt.config.head_width == 48


def _one_line(exc: pytest.ExceptionInfo, path) -> str:
    message = str(exc.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "no such file" in _one_line(exc, path)


def test_truncated_file(tmp_path, weights_file):
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(weights_file.read_bytes()[: weights_file.stat().st_size // 2])
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "not a readable safetensors file" in _one_line(exc, path)


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"\x00\x01this is not a weights file" * 10)
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    _one_line(exc, path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "truncated" in _one_line(exc, path)


def test_safetensors_without_config(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(path))
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "not a fastvit-fx weights file" in _one_line(exc, path)


def test_bad_config_json(tmp_path):
    path = tmp_path / "badconfig.safetensors"
    save_file({"w": torch.zeros(3)}, str(path), metadata={CONFIG_KEY: json.dumps({"arch": "vgg"})})
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "bad model config" in _one_line(exc, path)


def test_mismatched_architecture(tmp_path, weights_file):
    config, tensors = load_weights(weights_file)
    meta = {CONFIG_KEY: config.__class__(**{**config.__dict__, "arch": "fastvit_t12"}).to_json()}
    path = tmp_path / "mismatch.safetensors"
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "does not match fastvit_t12" in _one_line(exc, path)


def test_wrong_tensor_shape(tmp_path, weights_file):
    config, tensors = load_weights(weights_file)
    key = "head.classifier.weight"
    tensors[key] = torch.zeros(2, *tensors[key].shape[1:])
    path = tmp_path / "shape.safetensors"
    save_file(tensors, str(path), metadata={CONFIG_KEY: config.to_json()})
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert key in _one_line(exc, path)


def test_nan_weights(tmp_path, weights_file):
    config, tensors = load_weights(weights_file)
    tensors["head.classifier.bias"] = torch.full_like(tensors["head.classifier.bias"], float("nan"))
    path = tmp_path / "nan.safetensors"
    save_file(tensors, str(path), metadata={CONFIG_KEY: config.to_json()})
    with pytest.raises(WeightsError) as exc:
        load_model(path)
    assert "NaN" in _one_line(exc, path)
