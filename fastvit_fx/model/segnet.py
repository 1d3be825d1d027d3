"""SegNet: timm FastViT backbone (features at strides 4/8/16/32) + Semantic FPN head."""
from __future__ import annotations

import timm
import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .fpn_head import SemanticFPNHead


class SegNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        # pretrained=False: nothing may fetch weights at run time; we train our own
        self.backbone = timm.create_model(
            config.arch, pretrained=False, features_only=True, out_indices=(0, 1, 2, 3)
        )
        channels = self.backbone.feature_info.channels()
        self.head = SemanticFPNHead(channels, config.head_width, config.num_classes)
        # inference sets this: logits stay at stride 4 and the caller upsamples (edge-aware) at frame size
        self.lowres_output = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalised RGB -> (N, classes, H, W) logits."""
        logits = self.head(self.backbone(x))
        if self.lowres_output:
            return logits
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def build_model(config: ModelConfig | None = None, **overrides) -> SegNet:
    """The one way to build the network: ``build_model(arch="fastvit_t12", head_width=96)``."""
    if config is None:
        config = ModelConfig(**overrides)
    elif overrides:
        config = ModelConfig(**{**config.__dict__, **overrides})
    return SegNet(config)
