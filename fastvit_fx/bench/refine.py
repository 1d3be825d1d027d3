"""Cost of turning the network's stride-4 mask into a frame-sized one: bilinear, grey- and colour-guided,
the colour fit free and held near the network's probability, and at the finer scale used where the
people found are small."""
from __future__ import annotations

import cv2
import numpy as np

from ..segment.letterbox import letterbox_shape
from ..segment.refine import FINE_WORK_SCALE, apply_size, guided_upsample
from .segmentation import interleaved


def bench_refine(frame_hw=(720, 1280), size: int = 256, repeats: int = 60) -> list[dict]:
    """Rows of {upsampling, ms (median), ms (p90), x grey}, timed in interleaved rounds on one frame.

    As in the Segmenter, the half-size frame is made once per frame and shared with the letterbox,
    so it is not counted here.
    """
    rng = np.random.default_rng(0)
    h, w = frame_hw
    frame = cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 3)
    box = letterbox_shape(h, w, size)
    low = rng.random((box.h // 4, box.w // 4)).astype(np.float32)
    half = cv2.resize(frame, apply_size(h, w), interpolation=cv2.INTER_AREA)
    cases = {
        "bilinear": lambda: cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR),
        "guided, grey": lambda: guided_upsample(low, frame, frame_at_apply=half, color=False),
        "guided, colour, unheld": lambda: guided_upsample(low, frame, frame_at_apply=half, color=True, hold=None),
        "guided, colour, held (default)": lambda: guided_upsample(low, frame, frame_at_apply=half, color=True),
        "the same, finer (small people)": lambda: guided_upsample(low, frame, frame_at_apply=half, color=True,
                                                                   work_scale=FINE_WORK_SCALE),
    }
    samples = dict(zip(cases, interleaved(list(cases.values()), repeats=repeats)))
    grey = float(np.median(samples["guided, grey"]))
    # unrounded: the table prints 2 decimals, and a tiny test frame must not read as 0 ms
    return [{"upsampling": name, "ms": float(np.median(s)), "p90 ms": float(np.percentile(s, 90)),
             "x grey": float(np.median(s)) / grey} for name, s in samples.items()]
