"""One frame and its mask -> the picture: the single step both drivers (live and offline) run.

`compose` is pure apart from the effect's own simulation state: the same frame, mask, time, effect
and view give the same picture, whichever driver calls it. Mirror, the debug view, what to do
without a mask and what to do when an effect throws are decided here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from .debug_view import mask_debug_view


@dataclass(frozen=True)
class View:
    """How the picture is shown, beside the effect."""

    mirror: bool = False  # flip frame and mask left-right (a webcam preview reads like a mirror)
    debug: bool = False  # the mask debug view instead of the effect


@dataclass
class Composed:
    image: np.ndarray  # what to show / record
    mask: np.ndarray | None  # the mask used, flipped with the frame when mirrored
    error: str | None = None  # the effect failed on this frame (the frame is shown as it is)
    exception: BaseException | None = None  # ... and why, for the traceback


class _FunctionEffect:
    """A plain f(frame, mask, t) as an effect."""

    def __init__(self, fn: Callable, name: str) -> None:
        self.fn, self.name = fn, name

    def render(self, frame, mask, t):
        return self.fn(frame, mask, t)

    def reset(self) -> None:
        pass


def as_effect(effect) -> tuple[object | None, str]:
    """(effect, name) for: None (the frame as it is), anything with .render(frame, mask, t), a plain
    function f(frame, mask, t), or an fx Preset (built into an fx.EffectRenderer)."""
    if effect is None:
        return None, "none"
    if hasattr(effect, "render"):
        name = getattr(effect, "name", None) or getattr(getattr(effect, "preset", None), "name", None)
        return effect, str(name or type(effect).__name__)
    if callable(effect):
        name = getattr(effect, "__name__", "effect")
        return _FunctionEffect(effect, name), name
    from ..fx import EffectRenderer

    return EffectRenderer(effect), str(effect.name)


def compose(frame: np.ndarray, mask: np.ndarray | None, t: float, effect, *, view: View = View(),
            run_without_mask: bool = True, name: str = "effect") -> Composed:
    """frame: HxWx3 uint8 BGR (not modified); mask: float32 HxW in [0, 1] for this very frame, or None;
    t: the effect's clock in seconds; effect: from `as_effect` (None: the frame as it is).

    run_without_mask: with no mask, run the effect as if nobody were there (no model will come);
    False shows the frame unchanged (a model is still loading).
    """
    if mask is not None and mask.shape != frame.shape[:2]:  # the source changed size since
        mask = cv2.resize(mask, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
    if view.mirror:
        frame = cv2.flip(frame, 1)
        mask = cv2.flip(mask, 1) if mask is not None else None
    if view.debug:
        return Composed(mask_debug_view(frame, mask), mask)
    if effect is None or (mask is None and not run_without_mask):
        return Composed(frame if view.mirror else frame.copy(), mask)
    try:
        return Composed(effect.render(frame, mask, t), mask)
    except Exception as exc:  # an effect bug must not stop the picture; the caller reports it once
        return Composed(frame if view.mirror else frame.copy(), mask,
                        f"effect {name!r} failed ({type(exc).__name__}: {exc})", exc)
