"""Which input size a network pass gets, from how tall the people found are.

The network was trained on 224-256 px samples of photos and of whole scene frames. Fed a larger
input, it outlines a large person better (more pixels across the hair, hands and feet) and finds
small people pasted on scenes better, but CamVid's pedestrians worse (they are then larger than the
network learned them at); a smaller input does the reverse (model card, "Input size by the people
found"). So the first look at a frame runs at the base size, and what follows (a still's second
look, the zoom crop, the next video frame) may run at a size for the tallest person found.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import median

from .refine import SMALL_PEOPLE_BELOW

# None: that case keeps the base size. Large people get 320 (from LARGE_PEOPLE_FROM of the frame's
# height): with the shipped weights, val int8 portraits 0.9466 -> 0.9556 and full body 0.9184 -> 0.9251
# for 1.3x the network's time on those frames; live video takes it only while the segmenter keeps up
# (LargeSizeGate). Chosen by a rule (model card, "Large people at 320 where the machine keeps up, and a
# branch for them"). 224 for small people gained val street (0.2348 -> 0.2545) and was chosen by a
# rule, then withdrawn: groups of small people pasted on scenes (`eval.py --paste-group 5`) fell 0.331
# -> 0.267, and 320 lifts them to 0.435; val street rewards the scale the network saw CamVid at, not
# small people (model card, "The smaller input for small people alone").
LARGE_PEOPLE_SIZE: int | None = 320
LARGE_PEOPLE_FROM = 0.7
# video: once a frame's people called for the large size, it is kept until the tallest is this much
# under LARGE_PEOPLE_FROM, so a person standing at the threshold does not switch sizes every frame
LARGE_PEOPLE_KEEP_BAND = 0.05
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
    large_keep_band: float = LARGE_PEOPLE_KEEP_BAND

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

    def for_tallest(self, tallest: float | None, current: int | None = None) -> int:
        """The input size for a frame whose tallest person found is `tallest` of its height
        (0 or None: nobody found, or not known yet). current: the size the previous frame of the same
        video ran at; the large size is kept down to `large_keep_band` under `large_from`."""
        if not tallest:
            return self.base
        if self.large is not None:
            threshold = self.large_from - (self.large_keep_band if current == self.large else 0.0)
            if tallest >= threshold:
                return self.large
        if self.small is not None and tallest < self.small_below:
            return self.small
        return self.base


class LargeSizeGate:
    """Whether live video may take the large size: only while the segmenter keeps up with it.

    `record` each video call's wall time and whether it ran at the large size. Once the median of the
    last `window` large calls is over `share` of the frame interval (the interval since the previous
    frame, at most `slowest_interval_s`: a segmenter that skips camera frames must not earn itself a
    looser budget), the gate closes for `retry_s` seconds of the stream, then lets the large size be
    measured afresh. A machine that runs it in time keeps it; a slower one, or one busy with something
    else for a while, falls back to the base size.
    """

    # share 1.0: a large call may take the whole frame interval, and the segmenter still keeps up; chosen
    # over 0.8 by a rule on the live pipeline (model card, "The gate's share of a frame")
    def __init__(self, share: float = 1.0, window: int = 9, retry_s: float = 5.0,
                 slowest_interval_s: float = 1 / 30) -> None:
        if not 0.0 < share <= 1.0 or window < 1 or retry_s < 0 or slowest_interval_s <= 0:
            raise ValueError(f"LargeSizeGate: share in (0, 1], window >= 1, retry_s >= 0, "
                             f"got {share}, {window}, {retry_s}, {slowest_interval_s}")
        self.share, self.retry_s, self.slowest_interval_s = share, retry_s, slowest_interval_s
        self._ms: deque[float] = deque(maxlen=window)
        self._closed_for_s = 0.0
        # what a bench reports: calls recorded, those at the large size, and how often it fell back
        self.calls = self.large_calls = self.closures = 0

    @property
    def open(self) -> bool:
        return self._closed_for_s <= 0.0

    def budget_ms(self, interval_s: float | None) -> float:
        interval = min(interval_s, self.slowest_interval_s) if interval_s else self.slowest_interval_s
        return self.share * interval * 1000.0

    def record(self, call_ms: float, large: bool, interval_s: float | None) -> None:
        self.calls += 1
        self.large_calls += int(large)
        if not self.open:
            self._closed_for_s -= interval_s or self.slowest_interval_s
            return
        if not large:
            return
        self._ms.append(call_ms)
        judged = len(self._ms) >= min(3, self._ms.maxlen or 1)  # one slow call (a first run, a hiccup) is not a verdict
        if judged and median(self._ms) > self.budget_ms(interval_s):
            self._closed_for_s = self.retry_s
            self._ms.clear()
            self.closures += 1
