"""Headless effects engine: shared fields -> shader-like passes -> blended frame.

    from fastvit_fx.fx import load_presets, EffectRenderer, render_frames
    presets = load_presets()
    renderer = EffectRenderer(presets.get("snow"))
    out = renderer.render(frame_bgr, mask, t)
"""
from .presets import Preset, PresetError, PresetSet, load_presets
from .renderer import EffectRenderer, render_frames

__all__ = ["EffectRenderer", "Preset", "PresetError", "PresetSet", "load_presets", "render_frames"]
