"""Frame <-> network tensors: letterbox (pad, never stretch), normalise, and back."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STRIDE = 32  # FastViT's coarsest feature map: inputs are padded to a multiple of it


@dataclass(frozen=True)
class Letterbox:
    """Where the frame sits inside the network input: top-left, scaled to (height, width)."""

    in_h: int  # network input size
    in_w: int
    h: int  # valid region (the scaled frame), the rest is padding at bottom/right
    w: int


def letterbox_shape(frame_h: int, frame_w: int, size: int, multiple: int = STRIDE,
                    fixed: tuple[int, int] | None = None) -> Letterbox:
    """Scale the longest side to `size`, pad each side up to a multiple of `multiple`.

    fixed=(H, W): a runtime with a fixed input shape (Core ML); fit inside it and pad the rest.
    """
    if fixed is not None:
        s = min(fixed[0] / frame_h, fixed[1] / frame_w)
        h, w = max(1, min(fixed[0], round(frame_h * s))), max(1, min(fixed[1], round(frame_w * s)))
        return Letterbox(fixed[0], fixed[1], h, w)
    s = size / max(frame_h, frame_w)
    h, w = max(1, round(frame_h * s)), max(1, round(frame_w * s))
    in_h = -(-h // multiple) * multiple
    in_w = -(-w // multiple) * multiple
    return Letterbox(in_h, in_w, h, w)


def pad_value_bgr(mean_rgb: tuple[float, float, float]) -> tuple[int, int, int]:
    """Padding colour that normalises to zero."""
    return tuple(int(round(255 * v)) for v in mean_rgb[::-1])  # type: ignore[return-value]


def to_network_input(frame_bgr: np.ndarray, box: Letterbox, mean_rgb, std_rgb,
                     out: np.ndarray | None = None) -> np.ndarray:
    """BGR uint8 frame -> (1, 3, in_h, in_w) float32 normalised RGB, padded with the mean.

    `out`, if given, is reused (no per-frame allocation of the input tensor).
    """
    small = cv2.resize(frame_bgr, (box.w, box.h), interpolation=cv2.INTER_AREA)
    if out is None or out.shape != (1, 3, box.in_h, box.in_w):
        out = np.zeros((1, 3, box.in_h, box.in_w), np.float32)
    else:
        out.fill(0.0)
    for c in range(3):  # RGB plane c comes from BGR channel 2 - c
        plane = small[:, :, 2 - c].astype(np.float32)
        out[0, c, : box.h, : box.w] = (plane * (1.0 / 255.0) - mean_rgb[c]) / std_rgb[c]
    return out


def crop_valid(prob: np.ndarray, box: Letterbox) -> np.ndarray:
    """Cut the padding off a map at any stride of the network input."""
    ph, pw = prob.shape[-2:]
    sy, sx = ph / box.in_h, pw / box.in_w
    return prob[..., : max(1, round(box.h * sy)), : max(1, round(box.w * sx))]
