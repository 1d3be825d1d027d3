"""Carry mode's bookkeeping: which frame is shown with which mask, and when.

Frames wait here in capture order; masks arrive from the segmenter worker for some of them. A frame is
due `lag` after its capture (lag: how long a frame's own mask usually takes). It is shown with its
own mask when that is there; when the segmenter passed it by (a later mask exists) or it is due and
its mask has not come, the nearest mask there is gets carried to it along the optical flow, never
across a cut. So the display keeps the camera's rate and a steady lag.
"""
from __future__ import annotations

import collections
import time
from dataclasses import dataclass

import numpy as np

from ..io.capture import Frame
from .carry import MaskCarrier, thumbnail
from .cuts import CutDetector
from .stats import Smoothed


@dataclass
class Segmented:
    """A mask and the frame it was computed on."""

    seq: int
    frame: Frame
    mask: np.ndarray
    thumb: np.ndarray  # for carrying the mask to neighbouring frames
    scene: int  # counts the cuts before this frame
    ready_at: float  # time.monotonic() when the mask was ready


@dataclass
class Paired:
    """A frame and the mask to compose it with."""

    seq: int
    frame: Frame
    mask: np.ndarray
    mask_seq: int  # the frame the mask was computed on
    carried: bool


class CarryPairing:
    """``add_frame``, ``add_mask``, then ``due(now)`` for the frames whose time has come, and
    ``pair(seq, frame)`` for the mask of each. Used by one thread (the render thread)."""

    def __init__(self, max_wait_s: float = 1.0) -> None:
        self.max_wait_s = max_wait_s  # frames waiting longer for a mask are dropped (the segmenter stalled)
        self.pending: collections.deque[tuple[int, Frame]] = collections.deque()
        self.masks: dict[int, Segmented] = {}
        self.previous: Segmented | None = None  # the newest mask of a frame already passed
        self.shown_seq = 0  # the newest frame handed out by due()
        self.dropped = 0  # frames dropped: stalled, or no mask could be carried to them
        self.carried = 0
        self.carry_ms = Smoothed()
        self._delay = Smoothed(0.1)  # capture -> mask ready
        self._jitter = Smoothed(0.1)  # ... and how much that varies
        self._carrier = MaskCarrier()
        self._cuts = CutDetector()

    def clear(self) -> None:
        """A new source: nothing before it may be used after it."""
        self.pending.clear()
        self.masks.clear()
        self.previous, self.shown_seq = None, 0

    @property
    def lag_s(self) -> float:
        """How far behind the camera frames are shown: a frame's own mask is usually ready by then
        (the usual delay plus twice its usual variation, as TCP times its retries)."""
        return self._delay.value + 2 * self._jitter.value

    def add_frame(self, seq: int, frame: Frame) -> None:
        self.pending.append((seq, frame))

    def add_mask(self, item: Segmented) -> None:
        delay = item.ready_at - item.frame.t
        if self._delay.seen:  # the first delay has nothing to vary from
            self._jitter.add(abs(delay - self._delay.value))
        self._delay.add(delay)
        if item.seq <= self.shown_seq:  # its frame went already (carried): the nearest mask for what follows
            if self.previous is None or item.seq > self.previous.seq:
                self.previous = item
        else:
            self.masks[item.seq] = item

    def due(self, now: float) -> list[tuple[int, Frame]]:
        """The frames to show now, oldest first: those with a mask known or carried-to-be, in order."""
        while self.pending and now - self.pending[0][1].t > self.max_wait_s:
            self.pending.popleft()
            self.dropped += 1
        lag, newest = self.lag_s, max(self.masks, default=0)
        have_any = self.previous is not None or bool(self.masks)
        ready = []
        while self.pending:
            seq, frame = self.pending[0]
            if seq > newest and not (have_any and now >= frame.t + lag):
                break
            ready.append(self.pending.popleft())
            self.shown_seq = seq
        return ready

    def pair(self, seq: int, frame: Frame) -> Paired | None:
        """The mask for a due frame: its own, or the nearest carried to it; None: none can be."""
        own = self.masks.pop(seq, None)
        if own is not None:
            self._forget_before(seq)
            self.previous = own
            return Paired(seq, frame, own.mask, seq, False)
        paired = self._carry_to(seq, frame)
        self._forget_before(seq)
        if paired is None:
            self.dropped += 1
        return paired

    def skip(self, seq: int) -> None:
        """A due frame not shown (the render thread is late); its mask still counts as the nearest."""
        own = self.masks.pop(seq, None)
        if own is not None:
            self.previous = own
        self._forget_before(seq)

    def _forget_before(self, seq: int) -> None:
        for key in [k for k in self.masks if k < seq]:
            if self.previous is None or key > self.previous.seq:
                self.previous = self.masks[key]
            del self.masks[key]

    def _carry_to(self, seq: int, frame: Frame) -> Paired | None:
        start = time.perf_counter()
        previous = self.previous
        after = self.masks[min(k for k in self.masks if k > seq)] if any(k > seq for k in self.masks) else None
        if previous is None and after is None:
            return None
        thumb = thumbnail(frame.image)
        # the worker saw no cut between the masks on either side of this frame: either one is safe
        safe = previous is not None and after is not None and previous.scene == after.scene
        for choice in sorted([c for c in (previous, after) if c is not None], key=lambda c: abs(c.seq - seq)):
            if not safe and self._cuts.between(choice.thumb, thumb):
                continue  # a cut lies between this frame and that mask
            mask = self._carrier(choice.mask, choice.thumb, thumb)
            self.carry_ms.add((time.perf_counter() - start) * 1000)
            self.carried += 1
            return Paired(seq, frame, mask, choice.seq, True)
        return None
