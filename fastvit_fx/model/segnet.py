"""SegNet: timm FastViT backbone (features at strides 4/8/16/32) + Semantic FPN head, and optionally
an EdgeRefiner that brings the output to stride 2 with the stem's first (stride-2) features."""
from __future__ import annotations

import timm
import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .edge_refiner import EdgeRefiner
from .fpn_head import SemanticFPNHead

STEM_TAP = "stem_0"  # FastViT's first stem block: stride 2, the stage-0 width


class SegNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        # pretrained=False: nothing may fetch weights at run time; we train our own
        depth = {"layers": config.depths} if config.depths else {}
        self.backbone = timm.create_model(
            config.arch, pretrained=False, features_only=True, out_indices=(0, 1, 2, 3), **depth
        )
        channels = self.backbone.feature_info.channels()
        self.head = SemanticFPNHead(channels, config.head_width, config.num_classes,
                                    config.coarse_width)
        self.refiner: EdgeRefiner | None = None
        if config.refine_width:
            # the feature net returns taps in module order, so the stem's comes first
            self.backbone.return_layers[STEM_TAP] = STEM_TAP
            stem_channels = self.backbone[STEM_TAP].out_chs
            self.refiner = EdgeRefiner(stem_channels, config.refine_width, config.num_classes)
        # inference sets this: logits stay at the output stride and the caller upsamples (edge-aware)
        self.lowres_output = False

    @property
    def output_stride(self) -> int:
        return self.config.output_stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalised RGB -> (N, classes, H, W) logits (H/s, W/s with lowres_output)."""
        features = self.backbone(x)
        if self.refiner is not None:
            logits = self.refiner(features[0], self.head(features[1:]))
        else:
            logits = self.head(features)
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
