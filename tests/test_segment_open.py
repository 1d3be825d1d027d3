"""open_segmenter: the one way to build a Segmenter; exports built once, announced once, into the
cache FASTVIT_FX_CACHE names (a temporary folder in the tests, never ~/.cache)."""
from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from fastvit_fx import Segmenter, open_segmenter
from fastvit_fx.model import WeightsError
from fastvit_fx.resources import user_cache_dir


def test_tests_never_write_the_users_cache(tmp_path_factory):
    # conftest points the export cache at pytest's temporary folder for the whole session
    assert tmp_path_factory.getbasetemp() in user_cache_dir().parents


def test_cache_folder_is_settable(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTVIT_FX_CACHE", str(tmp_path / "mine"))
    assert user_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("FASTVIT_FX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "fastvit-fx"


def _exports(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "once" in r.getMessage()]


def test_an_export_is_built_and_announced_once(tmp_path, weights_file, monkeypatch, caplog):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("FASTVIT_FX_CACHE", str(tmp_path / "cache"))
    weights = shutil.copy(weights_file, tmp_path / "tiny.safetensors")
    with caplog.at_level(logging.INFO, logger="fastvit_fx"):
        first = open_segmenter(weights, backend="onnx", size=64)
        again = open_segmenter(weights, backend="onnx", size=64)
    (line,) = _exports(caplog)
    assert "exporting tiny.safetensors to ONNX once" in line
    assert first.backend.path == again.backend.path and (tmp_path / "cache") in first.backend.path.parents


def test_broken_weights_are_reported_without_announcing_an_export(tmp_path, tiny_model, monkeypatch, caplog):
    """Wrong-shape tensors pass the header check and fail when the build loads them: every try (the
    app's loader retries) is the one-line WeightsError, and none says it is exporting."""
    pytest.importorskip("onnxruntime")
    import copy

    import torch

    from fastvit_fx.model import save_weights

    monkeypatch.setenv("FASTVIT_FX_CACHE", str(tmp_path / "cache"))
    model = copy.deepcopy(tiny_model)
    model.head.classifier = torch.nn.Conv2d(model.head.classifier.in_channels, 3, 1)  # 3 outputs, not 1
    weights = save_weights(model, tmp_path / "wrong.safetensors")
    with caplog.at_level(logging.INFO, logger="fastvit_fx"):
        for _ in range(3):
            with pytest.raises(WeightsError, match="wrong.safetensors"):
                open_segmenter(weights, backend="onnx")
    assert _exports(caplog) == []
    assert not list((tmp_path / "cache").rglob("*.onnx"))


def test_segmenter_takes_a_backend_and_its_config(tiny_model):
    import copy

    from fastvit_fx.backends.torch_backend import TorchBackend

    backend = TorchBackend(copy.deepcopy(tiny_model), device="cpu")
    seg = Segmenter(backend, tiny_model.config, size=64, refine=False)
    assert seg(np.zeros((40, 60, 3), np.uint8)).shape == (40, 60)
    with pytest.raises(TypeError, match="config"):
        Segmenter(backend)


def test_segmenter_alone_opens_the_shipped_weights(tmp_path, weights_file, monkeypatch):
    from fastvit_fx.resources import DEFAULT_WEIGHTS_NAME

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(weights_file, models / DEFAULT_WEIGHTS_NAME)
    monkeypatch.setenv("FASTVIT_FX_MODELS", str(models))
    monkeypatch.setattr("fastvit_fx.segment.open.auto_candidates", lambda device=None: ["torch"])
    seg = Segmenter(smooth=True)
    assert seg.backend_name == "torch-cpu" and seg.smoother is not None and seg.size == 256
    assert open_segmenter(backend="torch").weights == models / DEFAULT_WEIGHTS_NAME  # eval reports it
    monkeypatch.setenv("FASTVIT_FX_MODELS", str(tmp_path / "empty"))
    with pytest.raises(WeightsError, match="no trained weights"):
        Segmenter()


def test_a_wrong_accelerator_guess_falls_back(weights_file, monkeypatch, caplog):
    """auto puts torch first where the files suggest CUDA; if torch then finds none, auto falls
    back to the next runtime instead of running torch on the CPU."""
    import fastvit_fx.segment.open as opening

    monkeypatch.setattr(opening, "auto_candidates", lambda device=None: ["torch", "torch"])
    monkeypatch.setattr(opening, "torch_accelerator_hint", lambda platform=None: "cuda")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with caplog.at_level(logging.WARNING, logger="fastvit_fx.segment"):
        backend, _ = opening.open_backend(weights_file, "auto", 64)
    assert backend.name == "torch-cpu"  # the last candidate, without insisting on the guess
    assert any("CUDA is not available" in r.getMessage() for r in caplog.records)

