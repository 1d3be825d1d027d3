"""Segmentation: a BGR frame in, a full-resolution soft person mask out.

open.py is the one way to build a Segmenter from a weights file (a runtime plus its config);
segmenter.py chains the steps around the runtime, each in its own module: letterbox (frame ->
network tensor), refine (guided upsampling to the frame, temporal smoothing), zoom (a second,
closer look at people small in the frame), input_size (the input size for the people found).
"""
from .open import open_backend, open_segmenter
from .segmenter import Segmenter

__all__ = ["Segmenter", "open_backend", "open_segmenter"]
