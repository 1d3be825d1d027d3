"""The segmentation network: build it, fuse it, save and load it.

Names load on first use: `from fastvit_fx.model import ModelConfig` (or header.read_config) must
not import torch, because the runtime reads configs and weights headers without it.
"""
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names are, for type checkers and for the import contracts (pyproject.toml)
    from .config import ARCHS, ModelConfig  # noqa: F401
    from .header import WeightsError, read_config  # noqa: F401
    from .reparam import is_fused, reparameterize  # noqa: F401
    from .segnet import SegNet, build_model  # noqa: F401
    from .weights import load_model, load_weights, save_weights  # noqa: F401

_WHERE = {
    "ARCHS": ".config", "ModelConfig": ".config",
    "is_fused": ".reparam", "reparameterize": ".reparam",
    "SegNet": ".segnet", "build_model": ".segnet",
    "WeightsError": ".header", "read_config": ".header",
    "load_model": ".weights", "load_weights": ".weights", "save_weights": ".weights",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'fastvit_fx.model' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value
