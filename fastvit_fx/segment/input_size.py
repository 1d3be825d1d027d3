"""Which input size a network pass gets, from how tall the people found are.

The network was trained on 224-256 px samples of photos and of whole scene frames. Fed a larger
input, it outlines a large person better (more pixels across the hair, hands and feet) and finds
small pedestrians worse (they are then larger than anything it learned them at); a smaller input
does the reverse (model card, "Input size by the people found"). So the first look at a frame runs
at the base size, and what follows (a still's second look, the zoom crop, the next video frame)
runs at the size for the tallest person found.
"""
from __future__ import annotations

from dataclasses import dataclass

from .refine import SMALL_PEOPLE_BELOW

# Off until a rule picks them (model card, "Input size by the people found"): None keeps every pass
# at the base size.
LARGE_PEOPLE_SIZE: int | None = None
LARGE_PEOPLE_FROM = 0.5
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
