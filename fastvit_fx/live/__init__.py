"""The live room: compose (one frame + its mask -> the picture), the live driver (newest frame wins,
every frame with its own mask), the offline driver (every frame, in order) and the Qt-free session.
No Qt and no torch here."""
from .compose import Composed, View, as_effect, compose
from .driver import DEFAULT_MASK_MODE, LiveDriver, MaskMode, ModelState
from .stats import LiveStats, RateMeter
from .step import FrameStep, Output

__all__ = ["Composed", "DEFAULT_MASK_MODE", "FrameStep", "LiveDriver", "LiveStats", "MaskMode", "ModelState",
           "Output", "RateMeter", "View", "as_effect", "compose"]
