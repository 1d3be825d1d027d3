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


def test_an_ingredients_val_scores_are_not_passed_off_as_the_averages(tmp_path):
    torch.manual_seed(0)
    scored = build_model(head_width=16)
    scored.config.training = {"epochs": 4, "val_miou": 0.7, "val": {"shen2016-portraits": 0.95}}
    a = save_weights(scored, tmp_path / "a.safetensors")
    b = _random_weights(tmp_path / "b.safetensors", 1)
    cfg, _ = load_weights(average_weights.average([b, a], tmp_path / "avg.safetensors"))
    assert cfg.training["epochs"] == 4 and cfg.training["averaged_from"] == ["b.safetensors", "a.safetensors"]
    assert "val" not in cfg.training and "val_miou" not in cfg.training


def test_different_architectures_are_refused_by_name(tmp_path):
    a = _random_weights(tmp_path / "a.safetensors", 0, head_width=16)
    b = _random_weights(tmp_path / "b.safetensors", 1, head_width=32)
    with pytest.raises(WeightsError, match="b.safetensors"):
        average_weights.average([a, b], tmp_path / "avg.safetensors")


def test_a_shallower_backbone_is_grown_before_averaging(tmp_path):
    deep = tmp_path / "deep.safetensors"
    torch.manual_seed(2)
    save_weights(build_model(head_width=16, depths=(2, 2, 6, 2)), deep)
    shallow = _random_weights(tmp_path / "shallow.safetensors", 3)
    out = average_weights.average([deep, shallow], tmp_path / "avg.safetensors", half=False)
    cfg, tavg = load_weights(out)
    _, td = load_weights(deep)
    _, ts = load_weights(shallow)
    assert cfg.depths == (2, 2, 6, 2)
    # a block both have is the mean of the two
    key = next(k for k in ts if k.startswith("backbone.stages_2.blocks.0.") and ts[k].is_floating_point()
               and not torch.equal(ts[k], td[k]))
    assert torch.allclose(tavg[key], (ts[key] + td[key]) / 2, atol=1e-6)
    # an appended block's LayerScale is half the deep one's (the grown one starts at 1e-5)
    scale = next(k for k in td if k.startswith("backbone.stages_2.blocks.5.") and "layer_scale" in k)
    assert torch.allclose(tavg[scale], (td[scale] + 1e-5) / 2, atol=1e-6)


def test_a_deeper_file_that_does_not_grow_from_the_other_is_refused_by_name(tmp_path):
    odd = tmp_path / "odd.safetensors"
    save_weights(build_model(head_width=16, depths=(1, 2, 6, 2)), odd)
    deep = tmp_path / "deep.safetensors"
    save_weights(build_model(head_width=16, depths=(2, 2, 4, 3)), deep)
    with pytest.raises(WeightsError, match="odd.safetensors|deep.safetensors"):
        average_weights.average([odd, deep], tmp_path / "avg.safetensors")
