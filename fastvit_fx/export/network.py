"""The network as the exporters trace it: fused, low-resolution output, sigmoid included (torch)."""
from __future__ import annotations

from pathlib import Path

from .cache import weights_digest


def with_sigmoid(model):
    """The fused SegNet followed by its sigmoid: exported graphs output probabilities."""
    import torch

    class Probability(torch.nn.Module):
        def __init__(self, net) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.net(x))

    return Probability(model).eval()


def load_for_export(weights: str | Path):
    """(fused SegNet with low-resolution (stride 4 or 2) output wrapped with its sigmoid, config, digest).

    Loading validates every tensor (one-line WeightsError), so a broken file fails here, before
    anything announces or writes an export."""
    from ..model import load_model

    model = load_model(weights, fuse=True)
    model.lowres_output = True
    return with_sigmoid(model), model.config, weights_digest(weights)
