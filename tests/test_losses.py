"""The training losses on tiny hand-made cases."""
from __future__ import annotations

import torch

from fastvit_fx.training.losses import lovasz_hinge, segmentation_loss


def test_lovasz_hinge_by_hand():
    target = torch.tensor([[[[1.0, 0.0]]]])
    # both pixels sit on the margin (error 1 each); whatever the sort order, the Lovasz weights sum to 1
    assert lovasz_hinge(torch.zeros(1, 1, 1, 2), target).item() == 1.0
    # confidently right beyond the margin: no loss
    assert lovasz_hinge(torch.tensor([[[[3.0, -3.0]]]]), target).item() == 0.0
    # soft resized edges count as person above 0.5
    assert lovasz_hinge(torch.tensor([[[[3.0, -3.0]]]]), torch.tensor([[[[0.7, 0.2]]]])).item() == 0.0


def test_lovasz_term_descends_towards_the_label():
    torch.manual_seed(0)
    target = (torch.rand(2, 1, 16, 16) > 0.5).float()
    logits = torch.randn(2, 1, 16, 16, requires_grad=True)
    before = segmentation_loss(logits, target, lovasz=1.0)
    before.backward()
    with torch.no_grad():
        after = segmentation_loss(logits - 0.5 * logits.grad / logits.grad.abs().max(), target, lovasz=1.0)
    assert after < before
    assert segmentation_loss(logits, target, lovasz=1.0) > segmentation_loss(logits, target)
