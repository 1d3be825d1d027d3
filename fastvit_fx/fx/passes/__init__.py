"""Passes: shader-like steps a preset chains. Each is a small class with a declarative parameter
table (like an OBS filter's properties), `setup()` for derived constants, `render(img, ctx)`
that returns the new frame, and, if it simulates something, `reset()`.

Passes read the shared fields in `ctx.fields` and never recompute them. `img` may be the caller's
frame (as a read-only view): a pass returns a new image, or draws in place on
`ctx.writable(img)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

import cv2

from ..blend import mix
from ..fields import Fields
from ..params import Choice, Spec

PASSES: dict[str, type["Pass"]] = {}

WHERE = Choice("all", ("all", "person", "background"), "which part of the frame the pass changes")


@dataclass
class Context:
    """Uniforms of one frame: the shared fields, time (s), time step (s) and the untouched input frame."""

    fields: Fields
    t: float
    dt: float
    frame: np.ndarray
    light: np.ndarray | None = None  # pending additive light on the grid, float32 HxWx3 (1.0 = 255)

    def add_light(self, layer: np.ndarray) -> None:
        """Queue a grid light layer to be added to the frame. Additive passes queue their glows here
        and the renderer upsamples the sum once (adding commutes, so the order does not matter)."""
        self.light = layer.copy() if self.light is None else cv2.add(self.light, layer)

    def writable(self, img: np.ndarray) -> np.ndarray:
        """img itself if a pass may draw into it, else a copy (the caller's frame is read-only)."""
        return img if img.flags.writeable else img.copy()

    def flush(self, img: np.ndarray) -> np.ndarray:
        """Add the pending light to img (one upsample for all queued layers)."""
        if self.light is None:
            return img
        glow = cv2.convertScaleAbs(self.light, alpha=255.0)
        self.light = None
        return cv2.add(img, self.fields.upsample(glow))


class Pass:
    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    params: ClassVar[dict[str, Spec]] = {}
    # True for passes that only add light (never read img's values): queued grid light from earlier
    # passes need not be flushed before them
    additive: ClassVar[bool] = False

    def __init__(self, **params) -> None:
        # params come validated and complete from the preset loader; fill defaults for direct use
        self.p = {key: params.get(key, spec.default) for key, spec in self.params.items()}
        self.setup()

    def setup(self) -> None:
        """Derive constants from the parameters (colours, kernels)."""

    def reset(self) -> None:
        """Forget simulation state (a new clip)."""

    def render(self, img: np.ndarray, ctx: Context) -> np.ndarray:
        raise NotImplementedError


def register(cls: type[Pass]) -> type[Pass]:
    PASSES[cls.name] = cls
    return cls


def restrict(before: np.ndarray, after: np.ndarray, ctx: Context, where: str) -> np.ndarray:
    """Keep a pass's change only on the person or only on the background (soft at the edge)."""
    if where == "person":
        return mix(before, after, ctx.fields.matte)
    if where == "background":
        return mix(after, before, ctx.fields.matte)
    return after


from . import background, color, debug, light, outline, physics  # noqa: E402,F401  (registers the passes)
