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


def test_an_even_depth_scale_is_the_ordinary_soup(tmp_path):
    base, branch = _random_weights(tmp_path / "base.safetensors", 0), _random_weights(tmp_path / "br.safetensors", 1)
    soup = average_weights.average([base, base, base, branch], tmp_path / "soup.safetensors", half=False)
    scaled = average_weights.depth_scaled(base, [branch], tmp_path / "scaled.safetensors", 0.25, 0.25, half=False)
    _, ts = load_weights(soup)
    cfg, tc = load_weights(scaled)
    for k in ts:
        assert torch.allclose(ts[k].float(), tc[k].float(), atol=1e-6), k
    assert cfg.training["merged_from"] == {"base": "base.safetensors", "branches": ["br.safetensors"],
                                           "depth_scale": [0.25, 0.25]}


def test_the_branch_change_grows_from_the_stem_to_the_head(tmp_path):
    base, branch = _random_weights(tmp_path / "base.safetensors", 0), _random_weights(tmp_path / "br.safetensors", 1)
    out = average_weights.depth_scaled(base, [branch], tmp_path / "scaled.safetensors", 0.0, 1.0, half=False)
    _, tb = load_weights(base)
    _, tr = load_weights(branch)
    _, tm = load_weights(out)

    def share(prefix):  # where the merged tensor sits between base (0) and branch (1)
        k = next(k for k in tb if k.startswith(prefix) and tb[k].is_floating_point() and not torch.equal(tb[k], tr[k]))
        return float(((tm[k] - tb[k]) / (tr[k] - tb[k])).nanmedian())

    stem, middle, head = share("backbone.stem_0."), share("backbone.stages_2.blocks.0."), share("head.")
    assert stem == pytest.approx(0.0, abs=1e-5) and head == pytest.approx(1.0, abs=1e-5)
    assert 0.2 < middle < 0.8


def test_layer_depths_follow_the_forward_order():
    from fastvit_fx.model.depth_scaling import layer_depths

    keys = ["backbone.stem_0.conv.weight", "backbone.stem_0.bn.bias", "backbone.stages_0.blocks.0.mixer.w",
            "backbone.stages_1.downsample.proj.w", "head.laterals.0.weight", "head.classifier.bias"]
    d = layer_depths(keys)
    assert d["backbone.stem_0.conv.weight"] == d["backbone.stem_0.bn.bias"] == 0.0
    assert d["backbone.stages_0.blocks.0.mixer.w"] == pytest.approx(1 / 3)
    assert d["head.laterals.0.weight"] == d["head.classifier.bias"] == 1.0


def test_a_branch_of_another_architecture_is_refused_by_name(tmp_path):
    base = _random_weights(tmp_path / "base.safetensors", 0, head_width=16)
    other = _random_weights(tmp_path / "other.safetensors", 1, head_width=32)
    with pytest.raises(WeightsError, match="other.safetensors"):
        average_weights.depth_scaled(base, [other], tmp_path / "m.safetensors", 0.0, 0.5)
