"""Mask quality metrics: IoU and boundary F-score (pure numpy/OpenCV)."""
from __future__ import annotations

import cv2
import numpy as np


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Person IoU of two boolean masks; two empty masks agree perfectly (1.0)."""
    pred, truth = pred.astype(bool), truth.astype(bool)
    union = np.logical_or(pred, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, truth).sum() / union)


def _boundary(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8))).astype(bool)


def boundary_f(pred: np.ndarray, truth: np.ndarray, tolerance: int | None = None) -> float:
    """Boundary F-score (Perazzi et al. 2016): edge pixels matched within `tolerance` px
    (default 0.75% of the image diagonal, as in DAVIS)."""
    if tolerance is None:
        tolerance = max(1, round(0.0075 * float(np.hypot(*truth.shape[:2]))))
    bp, bt = _boundary(pred), _boundary(truth)
    if not bp.any() and not bt.any():
        return 1.0
    if not bp.any() or not bt.any():
        return 0.0
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance + 1, 2 * tolerance + 1))
    bt_d = cv2.dilate(bt.astype(np.uint8), disk).astype(bool)
    bp_d = cv2.dilate(bp.astype(np.uint8), disk).astype(bool)
    precision = (bp & bt_d).sum() / bp.sum()
    recall = (bt & bp_d).sum() / bt.sum()
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))
