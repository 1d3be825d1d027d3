"""One utility walks the model and fuses every block that knows how (timm-style duck typing)."""
from __future__ import annotations

from torch import nn


def reparameterize(model: nn.Module) -> nn.Module:
    """Fold RepMixer, MobileOne, large-kernel, CPE and conv+norm pairs into single convs, in place.

    Every module with a ``reparameterize()`` method is fused, children before parents, so a block
    that fuses its sub-blocks sees them already folded. Returns the model in eval mode.
    """
    model.eval()
    for module in list(model.modules())[::-1]:
        if module is not model and hasattr(module, "reparameterize"):
            module.reparameterize()
    return model


def is_fused(model: nn.Module) -> bool:
    """True when no BatchNorm is left to fold (timm's FastViT drops its branches when fused)."""
    return not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
