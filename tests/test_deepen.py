"""A deeper backbone (ModelConfig.depths) and growing trained weights into it (model/deepen.py)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from conftest import randomize_batchnorm

from fastvit_fx.model import ModelConfig, build_model, is_fused, reparameterize
from fastvit_fx.model.deepen import block_counts, deepen_state

X = torch.randn(1, 3, 96, 160, generator=torch.Generator().manual_seed(8))
DEEP = (2, 2, 6, 2)


@pytest.fixture(scope="module")
def shallow():
    torch.manual_seed(9)
    model = randomize_batchnorm(build_model(head_width=16), seed=9).eval()
    # trained-looking residual scales: timm's 1e-5 start would make every block near the identity
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.fill_(0.5)
    return model


@pytest.fixture(scope="module")
def deepened(shallow):
    torch.manual_seed(10)
    deep = build_model(head_width=16, depths=DEEP)
    tensors, added = deepen_state(shallow.state_dict(), deep.state_dict())
    deep.load_state_dict(tensors)  # strict: every tensor of the deeper network is accounted for
    return deep.eval(), added


def test_depths_set_the_blocks_per_stage():
    assert block_counts(build_model(head_width=16).state_dict()) == (2, 2, 4, 2)  # fastvit_t8's own
    assert block_counts(build_model(head_width=16, depths=DEEP).state_dict()) == DEEP


def test_depths_survive_the_weights_header_and_are_checked():
    cfg = ModelConfig(depths=[2, 2, 6, 2])
    assert ModelConfig.from_json(cfg.to_json()).depths == DEEP
    assert ModelConfig.from_json(ModelConfig().to_json()).depths is None
    for bad in ([2, 2, 6], [2, 0, 4, 2]):
        with pytest.raises(ValueError, match="depths"):
            ModelConfig(depths=bad)


def test_deepened_weights_compute_what_the_shallow_ones_did(shallow, deepened):
    deep, added = deepened
    assert added and all(".stages_2.blocks.4." in k or ".stages_2.blocks.5." in k for k in added)
    with torch.no_grad():
        ref, out = shallow(X), deep(X)
    assert ref.abs().max() > 1e-2
    # the new blocks add 1e-5-scaled branches: close, not exact
    assert (ref - out).abs().max().item() < 1e-2 * ref.abs().max().item()
    assert torch.equal(ref > 0, out > 0) or ((ref > 0) != (out > 0)).float().mean() < 1e-3


def test_new_blocks_learn_from_the_first_step(deepened):
    model = copy.deepcopy(deepened[0]).train()
    model(X).mean().backward()
    gamma = model.backbone.stages_2.blocks[5].layer_scale.gamma
    assert gamma.grad is not None and gamma.grad.abs().sum() > 0


def test_deepen_refuses_fewer_blocks_and_unrelated_gaps(shallow, deepened):
    with pytest.raises(ValueError, match="cannot deepen"):
        deepen_state(deepened[0].state_dict(), shallow.state_dict())
    old = dict(shallow.state_dict())
    del old["head.laterals.0.weight"]
    with pytest.raises(ValueError, match="not part of a new block"):
        deepen_state(old, deepened[0].state_dict())


def test_deeper_network_fuses_and_exports_with_the_same_numbers(deepened, tmp_path):
    deep, _ = deepened
    fused = reparameterize(copy.deepcopy(deep))
    with torch.no_grad():
        ref, out = deep(X), fused(X)
    assert is_fused(fused) and (ref - out).abs().max().item() < 1e-4
    pytest.importorskip("onnxruntime")
    from fastvit_fx.backends.onnx_backend import OnnxBackend
    from fastvit_fx.backends.torch_backend import TorchBackend
    from fastvit_fx.export.onnx import export_onnx
    from fastvit_fx.model import load_model, save_weights

    weights = save_weights(deep, tmp_path / "deep.safetensors")
    assert load_model(weights, fuse=False).config.depths == DEEP
    onnx_path = export_onnx(weights, tmp_path / "deep.onnx", size=128)
    x = np.random.default_rng(11).standard_normal((1, 3, 96, 160)).astype(np.float32)
    ref = TorchBackend(load_model(weights), device="cpu")(x)
    got = OnnxBackend(onnx_path, threads=1)(x)
    assert ref.std() > 1e-2 and np.abs(got - ref).max() < 1e-3
