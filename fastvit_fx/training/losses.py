"""Segmentation loss for thin structures and edges: boundary-weighted BCE + soft Dice, optionally
the Lovasz hinge, a convex surrogate of per-image IoU (the metric val reports)."""
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


def _lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Jaccard loss extension w.r.t. sorted errors (Berman et al. 2018, alg. 1)."""
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    jaccard[1:] = jaccard[1:] - jaccard[:-1]
    return jaccard


def lovasz_hinge(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Lovasz hinge per image, averaged over the batch; target is binarised at 0.5 (soft resized edges)."""
    losses = []
    for lg, tg in zip(logits.flatten(1), (target > 0.5).float().flatten(1)):
        errors = 1.0 - lg * (2.0 * tg - 1.0)
        errors_sorted, perm = torch.sort(errors, descending=True)
        losses.append(torch.dot(F.relu(errors_sorted), _lovasz_grad(tg[perm])))
    return torch.stack(losses).mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, lovasz: float = 0.0) -> torch.Tensor:
    logits = logits.float()
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=edge_weights(target))
    loss = bce + dice_loss(logits, target)
    if lovasz:
        loss = loss + lovasz * lovasz_hinge(logits, target)
    return loss
