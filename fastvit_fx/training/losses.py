"""Segmentation loss for thin structures and edges: boundary-weighted BCE + soft Dice."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def edge_weights(target: torch.Tensor, boost: float = 2.0, width: int = 5) -> torch.Tensor:
    """1 everywhere, 1 + boost within `width` px of the label's edge (max-pool minus min-pool)."""
    pad = width // 2
    dil = F.max_pool2d(target, width, 1, pad)
    ero = -F.max_pool2d(-target, width, 1, pad)
    return 1.0 + boost * (dil - ero)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    union = prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return (1 - (2 * inter + eps) / (union + eps)).mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    logits = logits.float()
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=edge_weights(target))
    return bce + dice_loss(logits, target)
