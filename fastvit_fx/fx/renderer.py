"""EffectRenderer: (frame, mask, t) -> output frame for one preset; render_frames over a clip.

One renderer per stream: it keeps the simulations' state and the previous frame's fields (for
motion). Fields are computed once per frame, lazily, and shared by all the preset's passes.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import cv2
import numpy as np

from .fields import FieldHistory, Fields
from .passes import PASSES, Context
from .presets import Preset, load_presets


def _as_mask(mask, h: int, w: int) -> np.ndarray:
    """Any reasonable mask -> float32 HxW in [0, 1] at the frame's size. None = nobody there."""
    if mask is None:
        return np.zeros((h, w), np.float32)
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"expected an HxW mask, got shape {mask.shape}")
    if mask.dtype == np.uint8:
        mask = mask.astype(np.float32) * np.float32(1 / 255)
    elif mask.dtype == bool:
        mask = mask.astype(np.float32)
    else:
        mask = np.clip(mask.astype(np.float32, copy=False), 0.0, 1.0)
    if mask.shape != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    return mask


class EffectRenderer:
    """``out = EffectRenderer(preset).render(frame_bgr, mask, t)``; `reset()` between clips."""

    def __init__(self, preset: Preset | str, scale: int = 4) -> None:
        if isinstance(preset, str):
            preset = load_presets().get(preset)
        self.preset = preset
        self.scale = scale
        self.passes = [PASSES[name](**params) for name, params in preset.passes]
        self.history = FieldHistory()
        self._last_t: float | None = None
        self._shape: tuple[int, int] | None = None
        self.last_ms = 0.0

    @property
    def name(self) -> str:
        return self.preset.name

    def reset(self) -> None:
        for p in self.passes:
            p.reset()
        self.history.clear()
        self._last_t = None

    def render(self, frame: np.ndarray, mask: np.ndarray | None, t: float) -> np.ndarray:
        """frame: HxWx3 uint8 BGR (not modified); mask: float32 HxW in [0, 1]; t: seconds.
        Returns a new HxWx3 uint8 BGR frame."""
        start = time.perf_counter()
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {getattr(frame, 'shape', type(frame))} "
                             f"{getattr(frame, 'dtype', '')}")
        h, w = frame.shape[:2]
        mask = _as_mask(mask, h, w)
        if self._shape != (h, w):  # a new camera size: simulations start over
            self.reset()
            self._shape = (h, w)
        t = float(t)
        if self._last_t is None or t < self._last_t:
            dt = 1.0 / 30.0
        else:
            dt = min(t - self._last_t, 0.1)
        self._last_t = t
        if not frame.flags.c_contiguous:  # a mirrored or cropped view: OpenCV wants it packed
            frame = np.ascontiguousarray(frame)
        source = frame.view()
        source.flags.writeable = False  # passes read it; a slip that writes to it fails loudly
        fields = Fields(source, mask, self.history, dt, self.scale)
        ctx = Context(fields, t, dt, source)
        img = source  # read-only: a pass that draws in place asks ctx.writable(img) for its own copy
        for p in self.passes:
            if not p.additive:
                img = ctx.flush(img)
            img = p.render(img, ctx)
        img = ctx.flush(img)
        self.history.update(fields)
        if img is source or np.shares_memory(img, frame):
            img = img.copy()  # "none", or a pass that returned its input: the caller gets a new array
        self.last_ms = (time.perf_counter() - start) * 1e3
        return img


def render_frames(frames: Iterable[np.ndarray], masks: Iterable[np.ndarray] | Callable[[np.ndarray], np.ndarray],
                  preset: Preset | str, fps: float = 30.0) -> Iterator[np.ndarray]:
    """Apply `preset` to a clip: yields one output frame per input frame, at t = i / fps.

    masks: an iterable aligned with frames, or a callable frame -> mask (a Segmenter). The loop itself
    is the offline driver's (fastvit_fx.live.offline), so this gives what `render` writes.
    """
    from ..live.offline import compose_frames

    for out in compose_frames(frames, masks, EffectRenderer(preset), fps=fps):
        yield out.image
