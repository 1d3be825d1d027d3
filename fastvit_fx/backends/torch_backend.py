"""PyTorch runtime: fused model, channels_last, inference mode, on CPU, CUDA or MPS."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from ..model import SegNet, is_fused, reparameterize
from .base import BackendError


def pick_torch_device(requested: str | None = None) -> torch.device:
    if requested:
        dev = torch.device(requested)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise BackendError(f"device {requested}: CUDA is not available on this machine")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise BackendError(f"device {requested}: MPS is not available on this machine")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class TorchBackend:
    def __init__(self, model: SegNet, device: str | None = None, fuse: bool = True,
                 channels_last: bool = True) -> None:
        self.device = pick_torch_device(device)
        model = model.eval()
        if fuse and not is_fused(model):
            reparameterize(model)
        model.lowres_output = True  # stride-4 (or 2) probabilities; the Segmenter upsamples with the frame as guide
        self.half = self.device.type in ("cuda", "mps")
        model = model.to(self.device)
        if self.half:
            model = model.half()
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(memory_format=self.memory_format)
        self.fused = fuse
        self.name = f"torch-{self.device.type}"
        self.input_hw = None  # fully convolutional: any multiple of 32
        self._lock = threading.Lock()  # one forward at a time; the Segmenter's worker is the only caller

    @torch.inference_mode()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(x).to(self.device, non_blocking=True)
        if self.half:
            t = t.half()
        t = t.contiguous(memory_format=self.memory_format)
        with self._lock:
            logits = self.model(t)
        return torch.sigmoid(logits.float()).cpu().numpy()


def load_torch_backend(weights: str | Path, device: str | None = None) -> TorchBackend:
    """The torch runtime for a weights file (validated tensor by tensor: one-line WeightsError)."""
    from ..model import load_model

    return TorchBackend(load_model(weights, fuse=True), device=device)
