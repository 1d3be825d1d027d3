"""Shared fixtures: tests make their own inputs and never need ../shared or trained weights."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session", autouse=True)
def private_export_cache(tmp_path_factory):
    """Exports built during the tests (about 18 MB each) go to a temporary folder, never into the
    user's ~/.cache/fastvit-fx; subprocesses inherit the setting."""
    folder = tmp_path_factory.mktemp("export-cache")
    old = os.environ.get("FASTVIT_FX_CACHE")
    os.environ["FASTVIT_FX_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("FASTVIT_FX_CACHE", None)
    else:
        os.environ["FASTVIT_FX_CACHE"] = old


def randomize_batchnorm(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BatchNorm trained-looking statistics and affine parameters (not the fresh 0/1)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) * 0.8 + 0.6)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return model


@pytest.fixture(scope="session")
def tiny_model():
    """A randomly initialised default network with realistic BatchNorm statistics (unfused, eval)."""
    from fastvit_fx.model import build_model

    torch.manual_seed(0)
    return randomize_batchnorm(build_model()).eval()


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory, tiny_model):
    from fastvit_fx.model import save_weights

    return save_weights(tiny_model, tmp_path_factory.mktemp("weights") / "tiny.safetensors")


@pytest.fixture
def person_frame():
    """A synthetic 'person': a bright head-and-shoulders blob on a textured background."""
    def make(h: int = 359, w: int = 641) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        rng = np.random.default_rng(h * w)
        frame = (rng.integers(0, 60, (h, w, 3))).astype(np.uint8)
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, (w // 2, h // 3), max(4, min(h, w) // 7), 255, -1)
        cv2.ellipse(mask, (w // 2, h), (max(6, w // 4), max(6, h // 2)), 0, 180, 360, 255, -1)
        frame[mask > 0] = (180, 150, 200)
        return frame, mask

    return make
