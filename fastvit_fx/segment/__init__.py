"""Segmentation: a BGR frame in, a full-resolution soft person mask out.

The steps around the network, each in its own module: letterbox (frame -> network tensor),
refine (guided upsampling to the frame, temporal smoothing), zoom (a second, closer look at people
small in the frame); segmenter.py chains them around a backend.
"""
from .segmenter import Segmenter

__all__ = ["Segmenter"]
