"""The network: shapes, fusion (reparameterize) equivalence, architectures."""
from __future__ import annotations

import copy

import pytest
import torch

from fastvit_fx.model import ModelConfig, build_model, is_fused, reparameterize


def test_forward_shape_full_and_lowres(tiny_model):
    x = torch.randn(1, 3, 96, 160)
    with torch.no_grad():
        assert tiny_model(x).shape == (1, 1, 96, 160)
        tiny_model.lowres_output = True
        try:
            assert tiny_model(x).shape == (1, 1, 24, 40)  # stride 4
        finally:
            tiny_model.lowres_output = False


def test_fused_matches_unfused_with_trained_statistics(tiny_model):
    fused = reparameterize(copy.deepcopy(tiny_model))
    assert is_fused(fused) and not is_fused(tiny_model)
    # fewer modules after fusion: RepMixer / MobileOne branches are gone
    assert sum(1 for _ in fused.modules()) < sum(1 for _ in tiny_model.modules())
    x = torch.randn(1, 3, 128, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref, out = tiny_model(x), fused(x)
    assert ref.abs().max() > 1e-2  # the comparison is not between two near-zero maps
    assert (ref - out).abs().max().item() < 1e-4


def test_fused_model_runs_channels_last(tiny_model):
    fused = reparameterize(copy.deepcopy(tiny_model)).to(memory_format=torch.channels_last)
    x = torch.randn(1, 3, 64, 96).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert torch.allclose(fused(x), tiny_model(x), atol=1e-4)


@pytest.mark.parametrize("arch", ["fastvit_t12", "fastvit_sa12"])
def test_other_architectures_build_and_fuse(arch):
    model = build_model(arch=arch, head_width=32).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = model(x)
        out = reparameterize(model)(x)
    assert out.shape == (1, 1, 64, 64)
    assert (ref - out).abs().max().item() < 1e-3


def test_config_rejects_unknown_arch_and_tiny_head():
    with pytest.raises(ValueError, match="unknown arch"):
        ModelConfig(arch="resnet50")
    with pytest.raises(ValueError, match="head_width"):
        ModelConfig(head_width=2)


def test_head_width_is_a_parameter():
    small, large = build_model(head_width=32), build_model(head_width=128)
    n = lambda m: sum(p.numel() for p in m.head.parameters())  # noqa: E731
    assert n(large) > 4 * n(small)


@pytest.fixture(scope="module")
def refined_model():
    """A network with an EdgeRefiner whose residual is non-zero (as after training)."""
    from conftest import randomize_batchnorm

    torch.manual_seed(2)
    model = randomize_batchnorm(build_model(refine_width=8), seed=2).eval()
    torch.nn.init.normal_(model.refiner.residual.weight, std=0.2)
    return model


def test_edge_refiner_gives_stride_2_output_and_fuses(refined_model):
    x = torch.randn(1, 3, 96, 160, generator=torch.Generator().manual_seed(3))
    fused = reparameterize(copy.deepcopy(refined_model))
    assert is_fused(fused)
    with torch.no_grad():
        ref, out = refined_model(x), fused(x)
        refined_model.lowres_output = True
        try:
            assert refined_model(x).shape == (1, 1, 48, 80)
        finally:
            refined_model.lowres_output = False
    assert refined_model.output_stride == 2
    assert (ref - out).abs().max().item() < 1e-4


def test_edge_refiner_survives_save_and_load(refined_model, tmp_path):
    from fastvit_fx.model import load_model, save_weights

    path = save_weights(refined_model, tmp_path / "refined.safetensors")
    loaded = load_model(path, fuse=False)
    assert loaded.config.refine_width == 8
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(x), refined_model(x), atol=1e-5)
    with pytest.raises(ValueError, match="refine_width"):
        ModelConfig(refine_width=-1)
