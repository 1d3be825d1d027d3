"""Segmentation loss for thin structures and edges: boundary-weighted BCE + soft Dice, optionally
the Lovasz hinge, a convex surrogate of per-image IoU (the metric val reports).

Every term takes an optional `valid` map (1 = labelled, 0 = not labelled: the scene sources' 128):
pixels outside it give no loss and no gradient. `distillation_loss` pulls a student towards a frozen
teacher's masks on chosen samples (keeping what the teacher does well while new sources are learned)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def edge_weights(target: torch.Tensor, boost: float = 2.0, width: int = 5) -> torch.Tensor:
    """1 everywhere, 1 + boost within `width` px of the label's edge (max-pool minus min-pool)."""
    pad = width // 2
    dil = F.max_pool2d(target, width, 1, pad)
    ero = -F.max_pool2d(-target, width, 1, pad)
    return 1.0 + boost * (dil - ero)


def _batch_mean(per_sample: torch.Tensor, sample_weight: torch.Tensor | None) -> torch.Tensor:
    """Mean over the batch, each sample's term multiplied by its weight (all ones: the plain mean)."""
    if sample_weight is not None:
        per_sample = per_sample * sample_weight.reshape(-1).to(per_sample.dtype)
    return per_sample.mean()


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0,
              valid: torch.Tensor | None = None, sample_weight: torch.Tensor | None = None) -> torch.Tensor:
    prob = torch.sigmoid(logits)
    if valid is not None:
        prob, target = prob * valid, target * valid
    inter = (prob * target).sum(dim=(1, 2, 3))
    union = prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return _batch_mean(1 - (2 * inter + eps) / (union + eps), sample_weight)


def _lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Jaccard loss extension w.r.t. sorted errors (Berman et al. 2018, alg. 1)."""
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    jaccard[1:] = jaccard[1:] - jaccard[:-1]
    return jaccard


def lovasz_hinge(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None,
                 sample_weight: torch.Tensor | None = None, keep_above: float = 0.5) -> torch.Tensor:
    """Lovasz hinge per image, averaged over the batch; target is binarised at 0.5 (soft resized edges).
    Only pixels whose valid weight is over `keep_above` enter each image's sort: unlabelled ones (0)
    never, pixels weighted down (a shrunk frame's background) only where the threshold is under their
    weight. The hinge is a ranking of errors, so a kept pixel counts fully whatever its weight."""
    losses = []
    keep_all = torch.ones_like(target, dtype=torch.bool) if valid is None else valid > keep_above
    for lg, tg, keep in zip(logits.flatten(1), (target > 0.5).float().flatten(1), keep_all.flatten(1)):
        lg, tg = lg[keep], tg[keep]
        if tg.numel() == 0:
            losses.append(logits.sum() * 0.0)
            continue
        errors = 1.0 - lg * (2.0 * tg - 1.0)
        errors_sorted, perm = torch.sort(errors, descending=True)
        losses.append(torch.dot(F.relu(errors_sorted), _lovasz_grad(tg[perm])))
    return _batch_mean(torch.stack(losses), sample_weight)


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, lovasz: float = 0.0,
                      valid: torch.Tensor | None = None, sample_weight: torch.Tensor | None = None,
                      lovasz_keeps_above: float = 0.5) -> torch.Tensor:
    """sample_weight (B,): each sample's share of every term is multiplied by it (a source weighted
    up); the normalisation stays the unweighted one, so all ones gives exactly the plain loss.
    valid (B,1,H,W): each pixel's weight in BCE and Dice; the Lovasz term keeps the pixels over
    `lovasz_keeps_above` (lovasz_hinge)."""
    logits = logits.float()
    weight = edge_weights(target)
    if sample_weight is not None:
        weight = weight * sample_weight.reshape(-1, 1, 1, 1).to(weight.dtype)
    if valid is None:
        bce = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
    else:  # mean over the labelled pixels only
        weight = weight * valid
        bce = (F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="sum")
               / valid.sum().clamp(min=1.0))
    loss = bce + dice_loss(logits, target, valid=valid, sample_weight=sample_weight)
    if lovasz:
        loss = loss + lovasz * lovasz_hinge(logits, target, valid=valid, sample_weight=sample_weight,
                                            keep_above=lovasz_keeps_above)
    return loss


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      teach: torch.Tensor, where: torch.Tensor | None = None) -> torch.Tensor:
    """Per-pixel KL divergence from the teacher's person probability to the student's, averaged over
    the samples with teach == 1 (zero, with zero gradient, where none has). KL rather than BCE against
    the soft target so a student that matches the teacher scores 0 whatever the teacher's confidence.
    where (B,1,H,W), optional: 1 where the teacher is matched, 0 where it is not (each sample's mean
    is then over its matched pixels)."""
    student, teacher = student_logits.float(), teacher_logits.float()
    if teacher.shape[-2:] != student.shape[-2:]:
        teacher = F.interpolate(teacher, size=student.shape[-2:], mode="bilinear", align_corners=False)
    p = torch.sigmoid(teacher)
    # BCE(student; p) - H(p): the entropy term has no gradient, it only sets the floor at 0
    kl = (F.binary_cross_entropy_with_logits(student, p, reduction="none")
          - F.binary_cross_entropy_with_logits(teacher, p, reduction="none"))
    if where is None:
        per_sample = kl.flatten(1).mean(dim=1)
    else:
        where = where.to(kl.dtype)
        per_sample = (kl * where).flatten(1).sum(dim=1) / where.flatten(1).sum(dim=1).clamp(min=1.0)
    teach = teach.reshape(-1).to(per_sample.dtype)
    return (per_sample * teach).sum() / teach.sum().clamp(min=1.0)
