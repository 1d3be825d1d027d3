"""Which input size a network pass gets, from how tall the people found are.

The network was trained on 224-256 px samples of photos and of whole scene frames. Fed a larger
input, it outlines a large person better (more pixels across the hair, hands and feet) and finds
small people pasted on scenes better, but CamVid's pedestrians worse (they are then larger than the
network learned them at); a smaller input does the reverse (model card, "Input size by the people
found"). So the first look at a frame runs at the base size, and what follows (a still's second
look, the zoom crop, the next video frame) may run at a size for the tallest person found.
"""
from __future__ import annotations

from dataclasses import dataclass

from .refine import SMALL_PEOPLE_BELOW

# None: that case keeps the base size, as both are now. A larger input for large people measured well
# (val, shipped weights, int8: 320 from 0.7 of the frame, portraits 0.9489 -> 0.9567, full body 0.9196 ->
# 0.9248) and costs 1.4x the network's time, past 2x MediaPipe's on a 2-core CPU (model card, "Input
# size by the people found"). 224 for small people gained val street (0.2348 -> 0.2545) and was
# chosen by a rule, then withdrawn: groups of small people pasted on scenes (`eval.py --paste-group 5`)
# fell 0.331 -> 0.267, and 320 lifts them to 0.435; val street rewards the scale the network saw
# CamVid at, not small people (model card, "The smaller input for small people alone").
LARGE_PEOPLE_SIZE: int | None = None
LARGE_PEOPLE_FROM = 0.7
SMALL_PEOPLE_SIZE: int | None = None


@dataclass(frozen=True)
class InputSizes:
    """base: the first look's size (longest side). large: for frames whose tallest person found is at
    least `large_from` of the frame's height; small: for frames whose tallest person is shorter than
    `small_below` (and not absent). None: that case keeps the base size."""

    base: int
    large: int | None = None
    large_from: float = LARGE_PEOPLE_FROM
    small: int | None = None
    small_below: float = SMALL_PEOPLE_BELOW

    def __post_init__(self) -> None:
        for name in ("base", "large", "small"):
            value = getattr(self, name)
            if value is not None and value < 32:
                raise ValueError(f"input size must be at least 32, got {name}={value}")
        if not 0.0 < self.large_from <= 1.0:
            raise ValueError(f"large_from is a fraction of the frame's height in (0, 1], got {self.large_from}")

    @property
    def varies(self) -> bool:
        """Whether any frame gets another size than the base."""
        return (self.large or self.base) != self.base or (self.small or self.base) != self.base

    def for_tallest(self, tallest: float | None) -> int:
        """The input size for a frame whose tallest person found is `tallest` of its height
        (0 or None: nobody found, or not known yet)."""
        if not tallest:
            return self.base
        if self.large is not None and tallest >= self.large_from:
            return self.large
        if self.small is not None and tallest < self.small_below:
            return self.small
        return self.base
