"""Input shapes of exported networks (torch-free: the runtime needs them to find an export)."""
from __future__ import annotations

import math

STRIDE = 32  # the network's coarsest stride: every input side is a multiple of it
# Core ML needs one fixed input shape: the letterbox of a 16:9 webcam frame at the default size.
DEFAULT_ASPECT = (16, 9)


def fixed_input_hw(size: int, aspect: tuple[int, int] = DEFAULT_ASPECT) -> tuple[int, int]:
    """(H, W) network input for a fixed-shape runtime: the letterbox of a W:H frame at `size`.

    size 256, 16:9 -> (160, 256): a 1280x720 frame scales to 256x144 and pads to 256x160, the same
    tensor the dynamic-shape backends see. A portrait aspect gives the transposed shape.
    """
    if size < STRIDE:
        raise ValueError(f"input size must be at least {STRIDE}, got {size}")
    aw, ah = aspect
    if aw <= 0 or ah <= 0:
        raise ValueError(f"aspect must be two positive numbers, got {aw}:{ah}")
    long_side = math.ceil(size / STRIDE) * STRIDE
    if aw >= ah:
        short = size * ah / aw
        return math.ceil(round(short, 6) / STRIDE) * STRIDE, long_side
    short = size * aw / ah
    return long_side, math.ceil(round(short, 6) / STRIDE) * STRIDE


def parse_aspect(text: str) -> tuple[int, int]:
    """'16:9' -> (16, 9)."""
    try:
        w, h = (int(v) for v in text.replace("x", ":").split(":"))
    except ValueError:
        raise ValueError(f"aspect {text!r}: expected W:H, e.g. 16:9") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"aspect {text!r}: both sides must be positive")
    return w, h
