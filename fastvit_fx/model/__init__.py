"""The segmentation network: build it, fuse it, save and load it."""
from .config import ARCHS, ModelConfig
from .reparam import is_fused, reparameterize
from .segnet import SegNet, build_model
from .weights import WeightsError, load_model, load_weights, save_weights

__all__ = [
    "ARCHS", "ModelConfig", "SegNet", "build_model", "reparameterize", "is_fused",
    "WeightsError", "load_model", "load_weights", "save_weights",
]
