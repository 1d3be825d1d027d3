"""The coarse-wide FPN head and growing trained weights into it (model/widen.py)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from conftest import randomize_batchnorm

from fastvit_fx.model import ModelConfig, build_model, is_fused, reparameterize
from fastvit_fx.model.widen import widen_state

X = torch.randn(1, 3, 96, 160, generator=torch.Generator().manual_seed(4))


@pytest.fixture(scope="module")
def narrow():
    torch.manual_seed(5)
    return randomize_batchnorm(build_model(head_width=16), seed=5).eval()


@pytest.fixture(scope="module")
def widened(narrow):
    torch.manual_seed(6)
    wide = build_model(head_width=16, coarse_width=32)
    tensors, grown = widen_state(narrow.state_dict(), wide.state_dict())
    wide.load_state_dict(tensors)  # strict: every tensor of the wide head is accounted for
    return wide.eval(), grown


def test_coarse_width_widens_only_the_stride_16_and_32_levels():
    head = build_model(head_width=16, coarse_width=32).head
    assert [lat.out_channels for lat in head.laterals] == [16, 16, 32, 32]
    assert head.coarse_to_fine.in_channels == 32 and head.coarse_to_fine.out_channels == 16
    # each coarse branch runs wide until its last stage, at stride 8, narrows back to the head's width
    assert [s.conv.out_channels for s in head.branches[3].stages] == [32, 32, 16]
    assert [s.conv.out_channels for s in head.branches[2].stages] == [32, 16]
    assert build_model(head_width=16).head.coarse_to_fine is None


def test_config_rejects_a_coarse_width_below_the_head_width():
    with pytest.raises(ValueError, match="coarse_width"):
        ModelConfig(head_width=64, coarse_width=32)


def test_coarse_head_fuses_to_the_same_output(widened):
    wide, _ = widened
    fused = reparameterize(copy.deepcopy(wide))
    with torch.no_grad():
        ref, out = wide(X), fused(X)
    assert is_fused(fused) and ref.abs().max() > 1e-2
    assert (ref - out).abs().max().item() < 1e-4


def test_widened_weights_compute_exactly_what_the_narrow_ones_did(narrow, widened):
    wide, grown = widened
    assert "head.coarse_to_fine.weight" in grown and "head.laterals.3.weight" in grown
    with torch.no_grad():
        ref, out = narrow(X), wide(X)
    assert ref.abs().max() > 1e-2
    assert (ref - out).abs().max().item() < 1e-5
    # the new channels are live (fresh init), they only start unread by the old ones
    assert wide.head.laterals[3].weight[16:].abs().sum() > 0


def test_new_channels_learn_from_the_first_step(widened):
    wide, _ = widened
    model = copy.deepcopy(wide).train()
    model(X).mean().backward()
    last = model.head.branches[3].stages[-1].conv.weight  # (16 out, 32 in): new inputs start at zero
    assert torch.all(last[:, 16:] == 0) and last.grad[:, 16:].abs().sum() > 0


def test_widen_refuses_to_shrink(widened):
    wide, _ = widened
    narrow_fresh = build_model(head_width=16).state_dict()
    with pytest.raises(ValueError, match="cannot grow"):
        widen_state(wide.state_dict(), narrow_fresh)


def test_coarse_head_exports_to_onnx_with_the_same_numbers(widened, tmp_path):
    pytest.importorskip("onnxruntime")
    from fastvit_fx.export.onnx import export_onnx
    from fastvit_fx.backends.onnx_backend import OnnxBackend
    from fastvit_fx.backends.torch_backend import TorchBackend
    from fastvit_fx.model import load_model, save_weights

    weights = save_weights(widened[0], tmp_path / "coarse.safetensors")
    onnx_path = export_onnx(weights, tmp_path / "coarse.onnx", size=128)
    x = np.random.default_rng(7).standard_normal((1, 3, 96, 160)).astype(np.float32)
    ref = TorchBackend(load_model(weights), device="cpu")(x)
    out = OnnxBackend(onnx_path, threads=1)(x)
    assert ref.shape == out.shape == (1, 1, 24, 40) and ref.std() > 1e-2
    assert np.abs(out - ref).max() < 1e-3
