"""One utility walks the model and fuses every block that knows how (timm-style duck typing)."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A single biased conv equal to bn(conv(x)) in eval mode."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                      padding_mode=conv.padding_mode).to(conv.weight.device, conv.weight.dtype)
    fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.copy_(bn.bias + (bias - bn.running_mean) * scale)
    return fused


def _fold_conv_norm_pairs(model: nn.Module) -> None:
    """timm's ConvNormAct (FastViT's ConvMlp depthwise 7x7) has no reparameterize(): fold it here.

    BatchNormAct2d = BN, then dropout, then activation: the BN folds, the rest stays.
    """
    for module in model.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if type(conv) is nn.Conv2d and isinstance(bn, nn.BatchNorm2d):
            module.conv = fuse_conv_bn(conv, bn)
            rest = [m for m in (getattr(bn, "drop", None), getattr(bn, "act", None))
                    if m is not None and not isinstance(m, nn.Identity)]
            module.bn = nn.Sequential(*rest) if rest else nn.Identity()


def reparameterize(model: nn.Module) -> nn.Module:
    """Fold RepMixer, MobileOne, large-kernel, CPE and conv+norm pairs into single convs, in place.

    Every module with a ``reparameterize()`` method is fused, children before parents, so a block
    that fuses its sub-blocks sees them already folded. Returns the model in eval mode.
    """
    model.eval()
    for module in list(model.modules())[::-1]:
        if module is not model and hasattr(module, "reparameterize"):
            module.reparameterize()
    _fold_conv_norm_pairs(model)
    return model


def is_fused(model: nn.Module) -> bool:
    """True when no BatchNorm is left to fold (timm's FastViT drops its branches when fused)."""
    return not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
