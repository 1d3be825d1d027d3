"""The one small interface every runtime implements."""
from __future__ import annotations

from typing import Protocol

import numpy as np


class Backend(Protocol):
    name: str  # e.g. "torch-cpu", "torch-cuda", "onnx-cpu", "coreml"
    input_hw: tuple[int, int] | None  # a fixed (H, W) input shape, or None for any multiple of 32

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(1, 3, H, W) float32 normalised RGB -> (1, 1, H/4, W/4) float32 person probability."""
        ...


class BackendError(RuntimeError):
    """A backend that cannot run here; the message says which and why, in one line."""
