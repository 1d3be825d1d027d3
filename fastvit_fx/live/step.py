"""`FrameStep`: the state around `compose` that both drivers share - the active effect, the view
(mirror, debug), the effect's clock, the last error and the compose time."""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, replace

import numpy as np

from ..io.capture import Frame
from .compose import View, as_effect, compose
from .stats import Smoothed


@dataclass
class Output:
    """One composed frame, as the sinks get it. Treat the arrays as read-only."""

    image: np.ndarray  # what to show / record: the effect's result, or the mask debug view
    frame: Frame  # the source frame it was made from (as captured, not mirrored)
    mask: np.ndarray | None  # the mask it was composed with (mirrored with the picture), None: none yet
    seq: int  # the frame's place in the stream (the source mailbox's sequence number; offline: from 1)
    effect: str  # the active effect's name
    rendered_at: float  # time.monotonic() when it was ready
    mask_seq: int = 0  # the frame the mask was computed on (== seq: its own; 0: no mask)
    carried: bool = False  # the mask was carried here from frame mask_seq (optical flow)


class FrameStep:
    """Compose one frame at a time with the active effect; thread-safe to reconfigure.

    strict=False (live): an effect that throws leaves the frame as it is, and `error` says why, once.
    strict=True (offline): the exception is raised; a written clip must not hide broken frames.
    """

    def __init__(self, effect=None, view: View = View(), name: str | None = None, strict: bool = False) -> None:
        self.strict = strict
        self._lock = threading.Lock()
        self._effect, made = as_effect(effect)
        self._name = name or made
        self.view = view
        self.error: str | None = None
        self.compose_ms = Smoothed()
        self._origin: float | None = None  # the first frame's capture time: the effect's t = 0

    @property
    def effect_name(self) -> str:
        return self._name

    def set_effect(self, effect, name: str | None = None) -> str:
        built, made = as_effect(effect)
        with self._lock:
            self._effect, self._name = built, name or made
            self.error = None
        return self._name

    def set_view(self, **changes) -> View:
        with self._lock:
            self.view = replace(self.view, **changes)
            return self.view

    def reset(self) -> None:
        """A new clip: simulations start over."""
        with self._lock:
            effect = self._effect
        if effect is not None and hasattr(effect, "reset"):
            effect.reset()

    def effect_time(self, frame: Frame) -> float:
        """Seconds since the stream's first frame (offline: frame i is at i / fps)."""
        if self._origin is None:
            self._origin = frame.t
        return frame.t - self._origin

    def __call__(self, frame: Frame, mask: np.ndarray | None, seq: int, *, run_without_mask: bool = True,
                 mask_seq: int = 0, carried: bool = False) -> Output:
        with self._lock:
            effect, name, view = self._effect, self._name, self.view
        start = time.perf_counter()
        done = compose(frame.image, mask, self.effect_time(frame), effect, view=view,
                       run_without_mask=run_without_mask, name=name)
        self.compose_ms.add((time.perf_counter() - start) * 1000)
        if done.exception is not None and self.strict:
            raise done.exception
        if done.error is not None:
            if self.error is None:  # the first failure with its traceback; the message goes to the HUD
                traceback.print_exception(done.exception)
            self.error = done.error
        return Output(done.image, frame, done.mask, seq, name, time.monotonic(),
                      mask_seq if mask is not None else 0, carried and mask is not None)
