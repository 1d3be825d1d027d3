"""The training losses on tiny hand-made cases."""
from __future__ import annotations

import pytest
import torch

from fastvit_fx.training.losses import distillation_loss, lovasz_hinge, segmentation_loss


def test_lovasz_hinge_by_hand():
    target = torch.tensor([[[[1.0, 0.0]]]])
    # both pixels sit on the margin (error 1 each); whatever the sort order, the Lovasz weights sum to 1
    assert lovasz_hinge(torch.zeros(1, 1, 1, 2), target).item() == 1.0
    # confidently right beyond the margin: no loss
    assert lovasz_hinge(torch.tensor([[[[3.0, -3.0]]]]), target).item() == 0.0
    # soft resized edges count as person above 0.5
    assert lovasz_hinge(torch.tensor([[[[3.0, -3.0]]]]), torch.tensor([[[[0.7, 0.2]]]])).item() == 0.0


def test_lovasz_keeps_a_pixel_weighted_down_only_under_its_threshold():
    # a background pixel painted as person, weighted 0.3 (a shrunk frame's background)
    logits, target = torch.tensor([[[[3.0, 3.0]]]]), torch.tensor([[[[1.0, 0.0]]]])
    valid = torch.tensor([[[[1.0, 0.3]]]])
    assert lovasz_hinge(logits, target, valid=valid).item() == 0.0  # left out at the default 0.5
    assert lovasz_hinge(logits, target, valid=valid, keep_above=0.2).item() > 0.0  # kept: its error counts
    kept = segmentation_loss(logits, target, lovasz=1.0, valid=valid, lovasz_keeps_above=0.2)
    assert kept > segmentation_loss(logits, target, lovasz=1.0, valid=valid)


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


def test_distillation_is_zero_at_the_teacher_and_pulls_only_taught_samples_towards_it():
    torch.manual_seed(0)
    teacher = torch.randn(2, 1, 8, 8) * 3
    assert distillation_loss(teacher, teacher, torch.ones(2)).item() == pytest.approx(0.0, abs=1e-6)
    student = torch.randn(2, 1, 8, 8, requires_grad=True)
    loss = distillation_loss(student, teacher, torch.tensor([1.0, 0.0]))
    assert loss.item() > 0.05
    loss.backward()
    assert student.grad[1].abs().max() == 0  # the untaught sample gets no gradient
    stepped = student.detach() - 5.0 * student.grad
    assert distillation_loss(stepped, teacher, torch.tensor([1.0, 0.0])) < loss  # descends towards it
    # a teacher at a coarser grid is resized to the student's
    flat = torch.full((1, 1, 8, 8), 2.0)
    assert distillation_loss(flat, flat[..., ::2, ::2], torch.ones(1)).item() == pytest.approx(0.0, abs=1e-6)
    # no taught sample: zero, not NaN
    assert distillation_loss(student, teacher, torch.zeros(2)).item() == 0.0


def test_distillation_where_leaves_the_unmatched_pixels_out():
    torch.manual_seed(1)
    teacher = torch.randn(1, 1, 8, 8) * 3
    where = torch.zeros(1, 1, 8, 8)
    where[..., :4, :] = 1.0
    student = teacher.clone()
    student[..., 4:, :] = -teacher[..., 4:, :]  # wrong only where the teacher is not matched
    student.requires_grad_(True)
    loss = distillation_loss(student, teacher, torch.ones(1), where=where)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss(student, teacher, torch.ones(1)).item() > 0.1  # everywhere: it counts
    other = student.detach().clone()
    other[..., :4, :] += 2.0  # now wrong where matched too
    other.requires_grad_(True)
    distillation_loss(other, teacher, torch.ones(1), where=where).backward()
    assert other.grad[..., 4:, :].abs().max() == 0 and other.grad[..., :4, :].abs().max() > 0
