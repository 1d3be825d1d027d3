"""scripts/average_weights.py: the average of two runs' weights, and a clear error for a mismatch."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from fastvit_fx.model import WeightsError, build_model, load_weights, save_weights

_spec = importlib.util.spec_from_file_location(
    "average_weights", Path(__file__).resolve().parents[1] / "scripts" / "average_weights.py")
average_weights = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(average_weights)


def _random_weights(path: Path, seed: int, head_width: int = 16) -> Path:
    torch.manual_seed(seed)
    return save_weights(build_model(head_width=head_width), path)


def test_average_is_the_mean_of_each_tensor(tmp_path):
    a, b = _random_weights(tmp_path / "a.safetensors", 0), _random_weights(tmp_path / "b.safetensors", 1)
    out = average_weights.average([a, b], tmp_path / "avg.safetensors", half=False)
    _, ta = load_weights(a)
    _, tb = load_weights(b)
    cfg, tavg = load_weights(out)
    key = next(k for k in ta if ta[k].is_floating_point() and not torch.equal(ta[k], tb[k]))
    assert torch.allclose(tavg[key], (ta[key] + tb[key]) / 2, atol=1e-6)
    assert cfg.training["averaged_from"] == ["a.safetensors", "b.safetensors"]


def test_different_architectures_are_refused_by_name(tmp_path):
    a = _random_weights(tmp_path / "a.safetensors", 0, head_width=16)
    b = _random_weights(tmp_path / "b.safetensors", 1, head_width=32)
    with pytest.raises(WeightsError, match="b.safetensors"):
        average_weights.average([a, b], tmp_path / "avg.safetensors")
