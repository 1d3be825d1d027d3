"""Turning training samples by quarter turns, so the model does not learn that people stand.

The shipped weights find 0.164 of a full-body person turned on their side (0.919 upright): a person
lying, doing a handstand or bent double is left out of the mask. Turning a share of the batch, image,
label and valid map together, teaches that the orientation says nothing about what is a person. It
is done on the batch (not in the data loader) so a teacher can look at the upright sample and have
its answer turned with it: an upright teacher's mask is a good target for the turned student, where
its own view of the turned sample would not be.
"""
from __future__ import annotations

import torch


def draw_quarter_turns(n: int, share: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """For each of n samples, 0 (kept upright, with probability 1 - share) or 1, 2, 3 quarter turns."""
    turned = torch.rand(n, generator=generator) < share
    quarters = torch.randint(1, 4, (n,), generator=generator)
    return torch.where(turned, quarters, torch.zeros_like(quarters))


def turn(batch: torch.Tensor, quarters: torch.Tensor) -> torch.Tensor:
    """Each sample of an (N, C, H, W) batch turned clockwise by its number of quarter turns. Square
    samples only: a quarter turn of a non-square one would not fit the batch."""
    if not bool(quarters.any()):
        return batch
    if batch.shape[-1] != batch.shape[-2]:
        raise ValueError(f"quarter turns need square samples, got {tuple(batch.shape[-2:])}")
    out = batch.clone()
    for k in (1, 2, 3):
        chosen = (quarters == k).to(batch.device)
        if bool(chosen.any()):
            out[chosen] = torch.rot90(batch[chosen], -k, dims=(-2, -1))  # negative: clockwise
    return out
